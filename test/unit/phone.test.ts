import { maskPhone, normalizePhone } from '../../lambdas/domain/phone';

describe('phone numbers', () => {
  it.each([
    ['919876543210', '+919876543210'],
    ['+91 98765-43210', '+919876543210'],
    [919876543210, '+919876543210'],
  ])('normalizes %p to +digits', (input, expected) => {
    expect(normalizePhone(input)).toBe(expected);
  });

  it.each([[''], ['abc'], [null], [{}], ['1'.repeat(21)]])('has no phone for %p', (input) => {
    expect(normalizePhone(input)).toBeUndefined();
  });

  it('masks all but the first two and last two digits', () => {
    expect(maskPhone('+919876543210')).toBe('+91********10');
    expect(maskPhone('+123')).toBe('+***');
  });
});
