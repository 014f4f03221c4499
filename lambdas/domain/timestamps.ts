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
