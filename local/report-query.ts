import { DAY_MS, isTimeZone, parsePeriodBound } from '../lambdas/domain/timestamps';
import { parameterNamesForAnswer, RequestError } from '../lambdas/shared/errors';

/** A report's period and zone from a query string: what GET /report and GET /dashboard share. */
export interface ReportQuery {
  from: Date;
  to: Date;
  timeZone: string;
}

/**
 * `from` and `to` (parsePeriodBound: a UTC date, or a time with its zone; default the 24 hours up to now) and
 * `timeZone` (IANA; default UTC). A bad one is a RequestError(400) naming the parameter, never echoing its value (a
 * query string ends up in logs).
 */
export function reportQuery(params: URLSearchParams, now = new Date()): ReportQuery {
  const time = (name: 'from' | 'to', fallback: Date) => {
    const text = params.get(name);
    if (text === null) return fallback;
    const bound = parsePeriodBound(text, name === 'to' ? 'end' : 'start');
    if (!bound.ok) throw new RequestError(400, `${name} ${bound.reason}`);
    return bound.time;
  };
  const to = time('to', now);
  const from = time('from', new Date(to.getTime() - DAY_MS));
  if (from.getTime() >= to.getTime()) throw new RequestError(400, 'from must be before to');
  const timeZone = params.get('timeZone') ?? 'UTC';
  if (!isTimeZone(timeZone)) throw new RequestError(400, 'timeZone must be an IANA time zone name, e.g. Asia/Kolkata');
  return { from, to, timeZone };
}

/** GET /dashboard's refresh period in seconds. @default 30 */
export const DASHBOARD_REFRESH_SECONDS = 30;

/** The dashboard's query: the report's parameters plus `refresh` (seconds, 2 to 3600); any other is a 400 naming it. */
export function dashboardQuery(params: URLSearchParams, now = new Date()): ReportQuery & { refreshSeconds: number } {
  const known = new Set(['from', 'to', 'timeZone', 'refresh']);
  const unknown = [...new Set(params.keys())].filter((k) => !known.has(k));
  if (unknown.length)
    throw new RequestError(
      400,
      `unknown parameter: ${parameterNamesForAnswer(unknown)} (expected from, to, timeZone, refresh)`,
    );
  const refreshText = params.get('refresh');
  const refreshSeconds = refreshText === null ? DASHBOARD_REFRESH_SECONDS : Number(refreshText);
  if (!/^\d+$/.test(refreshText ?? '30') || refreshSeconds < 2 || refreshSeconds > 3600)
    throw new RequestError(400, 'refresh must be a whole number of seconds from 2 to 3600');
  return { ...reportQuery(params, now), refreshSeconds };
}
