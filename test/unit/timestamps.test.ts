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

  it.each([['yesterday'], [{}], [true], [-5], ['99999999999999999999'], [1_000]])(
    'rejects %p with a reason',
    (input) => {
      const result = parseProviderTimestamp(input);
      expect(result).toMatchObject({ ok: false, unset: false });
      expect(result.ok ? '' : result.reason).toMatch(/timestamp/);
    },
  );

  it('runs in a zone that is not UTC (npm test sets TZ=Asia/Kolkata), so the UTC test below can fail', () => {
    // process.env.TZ cannot be changed from inside jest: the zone is the one the jest process started with.
    const instant = new Date(Date.UTC(2024, 9, 23, 7, 59, 30));
    expect(instant.getTimezoneOffset()).not.toBe(0);
    expect(instant.getUTCHours() * 60 + instant.getUTCMinutes()).not.toBe(
      instant.getHours() * 60 + instant.getMinutes(),
    );
  });

  it.each([
    ['epoch seconds', '1729670370', '2024-10-23T07:59:30.000Z'],
    ['epoch milliseconds', 1_729_670_370_123, '2024-10-23T07:59:30.123Z'],
    ['an ISO string without an offset', '2024-10-23T07:59:30', '2024-10-23T07:59:30.000Z'],
    ['an ISO string without an offset, near midnight UTC', '2024-10-23T23:30:00', '2024-10-23T23:30:00.000Z'],
  ])(
    'computes %s in UTC on a non-UTC host (the original guide formatted local time and appended Z)',
    (_name, input, expected) => {
      expect(parseProviderTimestamp(input)).toEqual({ ok: true, iso: expected });
    },
  );
});
