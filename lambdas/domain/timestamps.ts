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

/** Whether the runtime (and so PostgreSQL, which knows the same IANA names) accepts the zone. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
