/**
 * Providers send times as epoch seconds or milliseconds, as numbers or digit strings, sometimes `"0"` for "unset",
 * and occasionally as ISO strings. Everything becomes a UTC ISO-8601 string computed in UTC: the original guide
 * formatted local time and appended `Z`, which shifts every timestamp on a non-UTC host.
 */

/** A UTC day in milliseconds (UTC days have no DST). */
export const DAY_MS = 86_400_000;

/** Below this an epoch value is taken as seconds: 1e11 s is the year 5138, 1e11 ms is March 1973. */
const SECONDS_MILLISECONDS_BOUNDARY = 1e11;
/** Nothing before 2009 (WhatsApp's founding) or after 2200 is a real status time. */
const EARLIEST_MS = Date.UTC(2009, 0, 1);
const LATEST_MS = Date.UTC(2200, 0, 1);

export type TimestampResult = { ok: true; iso: string } | { ok: false; unset: boolean; reason: string };

/** Parses a provider timestamp. `unset` is true for absent values and the `0`/`"0"` placeholder. */
export function parseProviderTimestamp(value: unknown): TimestampResult {
  if (value === undefined || value === null || value === '' || value === 0 || value === '0') {
    return { ok: false, unset: true, reason: 'timestamp is missing' };
  }
  let epochMs: number;
  if (typeof value === 'number' || (typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value))) {
    const n = Number(value);
    epochMs = n < SECONDS_MILLISECONDS_BOUNDARY ? n * 1000 : n;
  } else if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value)) {
    // Date.parse rolls impossible fields over (2024-02-30 becomes March 1): check them first.
    if (!isRealDateTime(value)) {
      return {
        ok: false,
        unset: false,
        reason: `timestamp ${JSON.stringify(value.slice(0, 40))} is not a real date and time`,
      };
    }
    // An ISO string without an offset is read as UTC, never as the host's local time.
    const hasOffset = /(Z|[+-]\d{2}:?\d{2})$/i.test(value);
    epochMs = Date.parse(hasOffset ? value : `${value}Z`);
  } else {
    return { ok: false, unset: false, reason: `timestamp ${JSON.stringify(value)?.slice(0, 40)} is not a time` };
  }
  if (!Number.isFinite(epochMs) || epochMs < EARLIEST_MS || epochMs > LATEST_MS) {
    return { ok: false, unset: false, reason: `timestamp ${String(value).slice(0, 40)} is out of range` };
  }
  return { ok: true, iso: new Date(Math.floor(epochMs)).toISOString() };
}

/** The calendar fields of an ISO string exist: month 1-12, a day the month has, hour 0-23, minute and second 0-59. */
function isRealDateTime(value: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(value);
  if (!match) return false;
  const [year, month, day, hour, minute, second] = match.slice(1).map((field) => Number(field ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth && hour <= 23 && minute <= 59 && second <= 59;
}

/**
 * How far a status time may be from the moment its webhook was received. Earliest-wins makes an early time
 * permanent: anyone holding the shared token could plant `read` in 2009 and no genuine status could correct it.
 * A provider reports a status seconds after it happens and retries for at most a few days, so a time far before
 * the receipt is forged or broken, and one after it is a clock that is wrong.
 */
export interface StatusTimeWindow {
  /** A status time more than this before the receipt is refused. @default 30 days */
  maxPastMs: number;
  /** A status time more than this after the receipt is refused. @default 5 minutes */
  maxFutureMs: number;
}

export const DEFAULT_STATUS_TIME_WINDOW: StatusTimeWindow = { maxPastMs: 30 * DAY_MS, maxFutureMs: 5 * 60_000 };

/** Why `iso` is implausible for a webhook received at `receivedAtMs`, or undefined when it is plausible. */
export function implausibleTimeReason(iso: string, receivedAtMs: number, window: StatusTimeWindow): string | undefined {
  const time = Date.parse(iso);
  if (time < receivedAtMs - window.maxPastMs)
    return `timestamp ${iso} is more than ${describeDuration(window.maxPastMs)} before the webhook was received`;
  if (time > receivedAtMs + window.maxFutureMs)
    return `timestamp ${iso} is more than ${describeDuration(window.maxFutureMs)} after the webhook was received`;
  return undefined;
}

function describeDuration(ms: number): string {
  if (ms % DAY_MS === 0) return `${ms / DAY_MS} days`;
  if (ms % 60_000 === 0) return `${ms / 60_000} minutes`;
  return `${ms / 1000} seconds`;
}

/** A period's start or end as a person wrote it, or why it cannot be read (never quoting it: URLs end up in logs). */
export type PeriodBound = { ok: true; time: Date } | { ok: false; reason: string };

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME =
  /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$/;
/** A date and time whose offset lost its `+`: a URL decodes `+05:30` to ` 05:30`. */
const OFFSET_WITHOUT_SIGN = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)? \d{2}(?::?\d{2})?$/;
/** Periods are of WhatsApp's years: 1970 keeps "since forever" (`--from 2000-01-01`) working, 2200 is far enough. */
const EARLIEST_BOUND_YEAR = 1970;
const LATEST_BOUND_YEAR = 2200;
/** The zones in use span UTC-12:00 to UTC+14:00; either sign is taken up to 14:00, the wider of the two. */
const MAX_OFFSET_MINUTES = 14 * 60;

/**
 * A period's start or end as written on a command line or in a URL, read the same on every host:
 * - a date (`2026-03-01`) is that UTC day: its midnight as a start, the next midnight as an end, so
 *   `--from 2026-03-01 --to 2026-03-01` is that one whole day and `--to 2026-03-02` includes 2 March;
 * - a date and time must name its zone (`Z`, `+05:30`, `+0530`, `+05`, `-08:00`). One without is refused: JavaScript
 *   would read it in the host's zone, so the same command would mean one period on a laptop in India and another on
 *   a server in UTC.
 * Years 1970 to 2200 only: `Date.UTC` reads years 0-99 as 1900-1999, and the tools' own answers cannot carry a year
 * past 9999.
 */
export function parsePeriodBound(text: string, side: 'start' | 'end'): PeriodBound {
  const trimmed = text.trim();
  const dateOnly = DATE_ONLY.test(trimmed);
  const dateTime = DATE_TIME.exec(trimmed);
  if (!dateOnly && !dateTime) {
    if (OFFSET_WITHOUT_SIGN.test(trimmed))
      return { ok: false, reason: "has a space where its offset's + belongs (in a URL, write + as %2B)" };
    return { ok: false, reason: 'expects an ISO 8601 date or time, such as 2026-03-01 or 2026-03-01T10:00:00Z' };
  }
  const [day, clock] = dateTime ? [dateTime[1]!, dateTime[2]!] : [trimmed, '00:00'];
  const year = Number(day.slice(0, 4));
  if (year < EARLIEST_BOUND_YEAR || year > LATEST_BOUND_YEAR)
    return { ok: false, reason: `is outside the years ${EARLIEST_BOUND_YEAR} to ${LATEST_BOUND_YEAR}` };
  if (!isRealDateTime(`${day}T${clock}`))
    return { ok: false, reason: dateOnly ? 'is not a real date' : 'is not a real date and time' };
  if (dateOnly) {
    const midnight = Date.parse(`${day}T00:00:00Z`);
    return { ok: true, time: new Date(side === 'end' ? midnight + DAY_MS : midnight) };
  }
  const [, , , utc, sign, hours, minutes] = dateTime!;
  if (!utc && !sign)
    return {
      ok: false,
      reason:
        "has no time zone: add Z for UTC or an offset such as +05:30 (without one it would mean this computer's local time)",
    };
  if (Number(minutes ?? 0) > 59) return { ok: false, reason: 'has an offset whose minutes are not 00 to 59' };
  const offsetMinutes = utc ? 0 : Number(hours) * 60 + Number(minutes ?? 0);
  if (offsetMinutes > MAX_OFFSET_MINUTES)
    return { ok: false, reason: 'has an offset beyond 14:00, which no time zone uses' };
  const asIfUtc = Date.parse(`${day}T${clock}Z`);
  if (Number.isNaN(asIfUtc)) return { ok: false, reason: 'is not a real date and time' };
  return { ok: true, time: new Date(asIfUtc - (sign === '-' ? -1 : 1) * offsetMinutes * 60_000) };
}

/** Whether the runtime (and so PostgreSQL, which knows the same IANA names) accepts the zone. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
