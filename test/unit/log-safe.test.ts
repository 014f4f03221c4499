import { maskPhoneLike, safeError } from '../../lambdas/shared/log-safe';

describe('maskPhoneLike', () => {
  it.each([
    ['+919876543210', '+91********10'],
    [
      'JSON data, line 1: ...phone_number":"+919876543210","campaign"',
      'JSON data, line 1: ...phone_number":"+91********10","campaign"',
    ],
    ['call +91 98765 43210 now', 'call +91********10 now'],
    ['919876543210', '91********10'],
    // WhatsApp user ids (BSUID), plain and parent, even when most of the id is letters.
    ['"recipient_user_id":"IN.1648738043044942"', '"recipient_user_id":"IN.**************42"'],
    ['parent US.ENT.11815799212886844830 failed', 'parent US.ENT.******************30 failed'],
    ['BR.abcDEFghiJKL', 'BR.**********KL'],
  ])('masks %p', (text, expected) => {
    expect(maskPhoneLike(text)).toBe(expected);
  });

  it('keeps dates, times and short numbers readable', () => {
    const text = 'date/time field value out of range: "2024-02-30T10:00:00.000Z" at line 23, SQLSTATE 22008';
    expect(maskPhoneLike(text)).toBe(text);
  });
});

describe('safeError', () => {
  it('keeps name, code and the masked message; drops detail, context, query, params and cause', () => {
    const error = Object.assign(new Error('bad +919876543210'), {
      code: '22P05',
      detail: '+919876543210',
      where: 'JSON data, line 1: +919876543210',
      params: ['+919876543210'],
      cause: new Error('+919876543210'),
    });
    expect(safeError(error)).toEqual({ name: 'Error', message: 'bad +91********10', code: '22P05' });
  });

  it('masks a number the 300-character cut would split, before cutting', () => {
    for (const lead of [290, 293, 296]) {
      const message = safeError(new Error(`${'x'.repeat(lead)}+919876543210 and more`)).message;
      expect(message).toHaveLength(300);
      expect(message.slice(lead)).toBe('+91********10 and more'.slice(0, 300 - lead));
    }
  });

  it('describes a thrown non-error', () => {
    expect(safeError('+919876543210')).toEqual({ name: 'NonError', message: '+91********10' });
  });
});
