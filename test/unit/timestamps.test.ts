import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { parsePeriodBound, parseProviderTimestamp } from '../../lambdas/domain/timestamps';

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

describe('parsePeriodBound: a period written on a command line or in a URL', () => {
  const time = (text: string, side: 'start' | 'end') => {
    const bound = parsePeriodBound(text, side);
    return bound.ok ? bound.time.toISOString() : bound.reason;
  };

  it('reads a date as its UTC day: midnight as a start, the next midnight as an end', () => {
    expect(time('2026-03-01', 'start')).toBe('2026-03-01T00:00:00.000Z');
    expect(time('2026-03-01', 'end')).toBe('2026-03-02T00:00:00.000Z');
    expect(time('2024-02-29', 'end')).toBe('2024-03-01T00:00:00.000Z');
    expect(time('2026-12-31', 'end')).toBe('2027-01-01T00:00:00.000Z');
  });

  it('reads a time with its zone as that instant, whichever side', () => {
    expect(time('2026-03-01T10:00:00Z', 'start')).toBe('2026-03-01T10:00:00.000Z');
    expect(time('2026-03-01T10:00:00Z', 'end')).toBe('2026-03-01T10:00:00.000Z');
    expect(time('2026-03-01T10:00+05:30', 'start')).toBe('2026-03-01T04:30:00.000Z');
    expect(time('2026-03-01 10:00:00.123-0800', 'start')).toBe('2026-03-01T18:00:00.123Z');
    expect(time('2026-03-01t10:00-08', 'end')).toBe('2026-03-01T18:00:00.000Z');
  });

  it('refuses a time without a zone, which JavaScript would read in the host zone', () => {
    expect(time('2026-03-01T10:00', 'start')).toMatch(/^has no time zone: add Z for UTC or an offset such as \+05:30/);
    expect(time('2026-03-01 10:00:00', 'end')).toMatch(/^has no time zone/);
  });

  it('refuses what is not an ISO date or time, or not a real one, without quoting it', () => {
    for (const text of ['yesterday', '', '1709251200000', 'March 1, 2026', '2026-3-1', '2026-03-01T10Z']) {
      expect(time(text, 'start')).toBe('expects an ISO 8601 date or time, such as 2026-03-01 or 2026-03-01T10:00:00Z');
    }
    expect(time('2026-02-30', 'end')).toBe('is not a real date');
    expect(time('2026-13-01', 'start')).toBe('is not a real date');
    expect(time('2026-02-30T10:00Z', 'start')).toBe('is not a real date and time');
    expect(time('2026-03-01T24:00Z', 'start')).toBe('is not a real date and time');
    expect(time('2026-03-01T10:00+14:30', 'start')).toBe('has an offset beyond 14:00, which no time zone uses');
    expect(time('2026-03-01T10:00+05:60', 'start')).toBe('has an offset whose minutes are not 00 to 59');
    expect(time('2026-03-01T10:00+05:', 'start')).toBe(
      'expects an ISO 8601 date or time, such as 2026-03-01 or 2026-03-01T10:00:00Z',
    );
  });

  it('takes the offsets the world uses, from -12:00 to +14:00, in each way of writing them', () => {
    expect(time('2026-03-01T10:00+14:00', 'start')).toBe('2026-02-28T20:00:00.000Z');
    expect(time('2026-03-01T10:00-12:00', 'start')).toBe('2026-03-01T22:00:00.000Z');
    expect(time('2026-03-01T10:00+05:45', 'start')).toBe('2026-03-01T04:15:00.000Z');
    expect(time('2026-03-01T10:00+0545', 'start')).toBe('2026-03-01T04:15:00.000Z');
    expect(time('2026-03-01T10:00:00.000+05:30', 'start')).toBe('2026-03-01T04:30:00.000Z');
    expect(time(' 2026-03-01T10:00:00Z\n', 'start')).toBe('2026-03-01T10:00:00.000Z');
    expect(time('2026-03-01T10:00:00.123456789-05:00', 'start')).toBe('2026-03-01T15:00:00.123Z');
  });

  it('says when a URL turned the + of an offset into a space', () => {
    expect(time('2026-03-01T10:00 05:30', 'start')).toBe(
      "has a space where its offset's + belongs (in a URL, write + as %2B)",
    );
  });

  it('keeps to the years 1970 to 2200: Date.UTC would read 0050 as 1950, and year 10000 cannot be written back', () => {
    expect(time('1970-01-01', 'start')).toBe('1970-01-01T00:00:00.000Z');
    expect(time('2000-01-01', 'start')).toBe('2000-01-01T00:00:00.000Z');
    expect(time('0050-03-01', 'start')).toBe('is outside the years 1970 to 2200');
    expect(time('0050-03-01T00:00Z', 'start')).toBe('is outside the years 1970 to 2200');
    expect(time('9999-12-31', 'end')).toBe('is outside the years 1970 to 2200');
    expect(time('0000-02-29', 'start')).toBe('is outside the years 1970 to 2200');
  });

  it('means the same instants on a host in India, in California and in UTC', () => {
    // Each zone in a process of its own: TZ is read by Node itself, which jest's process.env does not reach.
    const script = `
      const { parsePeriodBound } = require('./lambdas/domain/timestamps.ts');
      const inputs = ['2026-03-01', '2026-03-01T10:00Z', '2026-03-01T10:00+05:30', '2026-03-01T10:00'];
      const read = (text, side) => { const b = parsePeriodBound(text, side); return b.ok ? b.time.toISOString() : b.reason; };
      console.log(JSON.stringify({
        ours: inputs.flatMap((text) => [read(text, 'start'), read(text, 'end')]),
        javascript: new Date('2026-03-01T10:00').toISOString(),
      }));`;
    const readIn = (zone: string) =>
      JSON.parse(
        execFileSync(process.execPath, ['--import', 'tsx', '--input-type=commonjs', '-e', script], {
          cwd: path.join(__dirname, '../..'),
          env: { ...process.env, TZ: zone },
          encoding: 'utf8',
        }),
      ) as { ours: string[]; javascript: string };
    const [india, california, utc] = ['Asia/Kolkata', 'America/Los_Angeles', 'UTC'].map(readIn) as [
      ReturnType<typeof readIn>,
      ReturnType<typeof readIn>,
      ReturnType<typeof readIn>,
    ];
    // The zone really changed: JavaScript's own reading of a zone-less time moved with it.
    expect(new Set([india.javascript, california.javascript, utc.javascript]).size).toBe(3);
    expect(utc.ours.slice(0, 6)).toEqual([
      '2026-03-01T00:00:00.000Z',
      '2026-03-02T00:00:00.000Z',
      '2026-03-01T10:00:00.000Z',
      '2026-03-01T10:00:00.000Z',
      '2026-03-01T04:30:00.000Z',
      '2026-03-01T04:30:00.000Z',
    ]);
    expect(india.ours).toEqual(utc.ours);
    expect(california.ours).toEqual(utc.ours);
  });
});
