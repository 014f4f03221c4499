import { maskRecipient, maskUserId, normalizeUserId } from '../../lambdas/domain/user-id';

describe('normalizeUserId', () => {
  it.each([
    // Examples from Meta's "Business-scoped user IDs" page and 360dialog's "Usernames & BSUID" page.
    ['US.13491208655302741918', 'US.13491208655302741918'],
    ['BR.1502576394655843', 'BR.1502576394655843'],
    ['US.ENT.11815799212886844830', 'US.ENT.11815799212886844830'],
    ['  IN.1648738043044942 ', 'IN.1648738043044942'],
    ['HK.abc123XYZ', 'HK.abc123XYZ'],
  ])('keeps %p', (value, expected) => {
    expect(normalizeUserId(value)).toBe(expected);
  });

  it.each([
    ['a phone number', '+919876543210'],
    ['a lower-case country', 'in.1648738043044942'],
    ['no country', '1648738043044942'],
    ['punctuation in the id', 'IN.1648-7380'],
    ['an empty id', 'IN.'],
    ['an id over 128 characters', `IN.${'1'.repeat(129)}`],
    ['a number', 1648738043044942],
    ['null', null],
  ])('refuses %s', (_, value) => {
    expect(normalizeUserId(value)).toBeUndefined();
  });
});

describe('maskUserId', () => {
  it('keeps the country (and ENT) and the last two characters', () => {
    expect(maskUserId('IN.1648738043044942')).toBe('IN.**************42');
    expect(maskUserId('US.ENT.11815799212886844830')).toBe('US.ENT.******************30');
    expect(maskUserId('BR.1234')).toBe('BR.****');
    expect(maskUserId(undefined)).toBeUndefined();
  });
});

describe('maskRecipient', () => {
  it('masks a phone or a user id once: a value already masked (a report from the running server) stays as it is', () => {
    expect(maskRecipient('+919876543299')).toBe('+91********99');
    expect(maskRecipient('IN.1648738043044942')).toBe('IN.**************42');
    expect(maskRecipient(maskRecipient('+919876543299'))).toBe('+91********99');
    expect(maskRecipient(maskRecipient('IN.1648738043044942'))).toBe('IN.**************42');
    expect(maskRecipient(null)).toBeUndefined();
  });
});
