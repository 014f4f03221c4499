import { parseProviderTimestamp } from '../../lambdas/domain/timestamps';

describe('parseProviderTimestamp', () => {
  it.each([
    ['epoch seconds as a number', 1_729_670_370, '2024-10-23T07:59:30.000Z'],
    ['epoch seconds as a string', '1729670370', '2024-10-23T07:59:30.000Z'],
    ['epoch milliseconds as a number', 1_729_670_370_123, '2024-10-23T07:59:30.123Z'],
    ['epoch milliseconds as a string', '1729670370123', '2024-10-23T07:59:30.123Z'],
    ['an ISO string with Z', '2024-10-23T07:59:30.123Z', '2024-10-23T07:59:30.123Z'],
    ['an ISO string with an offset', '2024-10-23T13:29:30+05:30', '2024-10-23T07:59:30.000Z'],
    ['an ISO string without an offset, read as UTC', '2024-10-23T07:59:30', '2024-10-23T07:59:30.000Z'],
  ])('reads %s', (_name, input, expected) => {
    expect(parseProviderTimestamp(input)).toEqual({ ok: true, iso: expected });
  });

  it.each([[0], ['0'], [null], [undefined], ['']])('treats %p as unset', (input) => {
    expect(parseProviderTimestamp(input)).toMatchObject({ ok: false, unset: true });
  });

  it.each([['yesterday'], [{}], [true], [-5], ['99999999999999999999'], [1_000]])('rejects %p with a reason', (input) => {
    const result = parseProviderTimestamp(input);
    expect(result).toMatchObject({ ok: false, unset: false });
    expect(result.ok ? '' : result.reason).toMatch(/timestamp/);
  });

  it('computes in UTC whatever the host time zone (the original guide did not)', () => {
    // Date parsing here never consults the local zone; the same input gives the same instant as in UTC.
    const before = process.env.TZ;
    process.env.TZ = 'Asia/Kolkata';
    try {
      expect(parseProviderTimestamp('1729670370')).toEqual({ ok: true, iso: '2024-10-23T07:59:30.000Z' });
      expect(parseProviderTimestamp('2024-10-23T07:59:30')).toEqual({ ok: true, iso: '2024-10-23T07:59:30.000Z' });
    } finally {
      process.env.TZ = before;
    }
  });
});
