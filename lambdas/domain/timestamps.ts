/**
 * Providers send times as epoch seconds or milliseconds, as numbers or digit strings, sometimes `"0"` for "unset",
 * and occasionally as ISO strings. Everything becomes a UTC ISO-8601 string computed in UTC: the original guide
 * formatted local time and appended `Z`, which shifts every timestamp on a non-UTC host.
 */

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

export const DEFAULT_STATUS_TIME_WINDOW: StatusTimeWindow = { maxPastMs: 30 * 86_400_000, maxFutureMs: 5 * 60_000 };

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
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000} days`;
  if (ms % 60_000 === 0) return `${ms / 60_000} minutes`;
  return `${ms / 1000} seconds`;
}

/** A period's start or end as a person wrote it, or why it cannot be read (never quoting it: URLs end up in logs). */
export type PeriodBound = { ok: true; time: Date } | { ok: false; reason: string };

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)([Zz]|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * A period's start or end as written on a command line or in a URL, read the same on every host:
 * - a date (`2026-03-01`) is that UTC day: its midnight as a start, the next midnight as an end, so
 *   `--from 2026-03-01 --to 2026-03-01` is that one whole day and `--to 2026-03-02` includes 2 March;
 * - a date and time must name its zone (`Z`, `+05:30`, `-0800`). One without is refused: JavaScript would read it
 *   in the host's zone, so the same command would mean one period on a laptop in India and another on a server in
 *   UTC.
 */
export function parsePeriodBound(text: string, side: 'start' | 'end'): PeriodBound {
  const trimmed = text.trim();
  const date = DATE_ONLY.exec(trimmed);
  if (date) {
    const midnight = Date.UTC(Number(date[1]), Number(date[2]) - 1, Number(date[3]));
    if (!isRealDateTime(`${trimmed}T00:00`)) return { ok: false, reason: 'is not a real date' };
    return { ok: true, time: new Date(side === 'end' ? midnight + 86_400_000 : midnight) };
  }
  const dateTime = DATE_TIME.exec(trimmed);
  if (!dateTime)
    return { ok: false, reason: 'expects an ISO 8601 date or time, such as 2026-03-01 or 2026-03-01T10:00:00Z' };
  const [, day, clock, zone] = dateTime as unknown as [string, string, string, string | undefined];
  if (!isRealDateTime(`${day}T${clock}`)) return { ok: false, reason: 'is not a real date and time' };
  if (!zone)
    return {
      ok: false,
      reason:
        "has no time zone: add Z for UTC or an offset such as +05:30 (without one it would mean this computer's local time)",
    };
  const offset = /^[+-]\d{2}$/.test(zone)
    ? `${zone}:00`
    : /^[+-]\d{4}$/.test(zone)
      ? `${zone.slice(0, 3)}:${zone.slice(3)}`
      : zone;
  const time = new Date(`${day}T${clock}${offset.toUpperCase()}`);
  if (Number.isNaN(time.getTime())) return { ok: false, reason: 'has an offset no time zone uses' };
  return { ok: true, time };
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
