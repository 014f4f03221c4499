import { COHORT_KEYS, CohortSettings, healthWindows } from '../domain/alert-settings';
import { DEFAULT_HEALTH_WINDOWS, type DeliveryHealth, type HealthWindows } from '../store/health-store';
import type { SqlExecutor } from '../store/sql-executor';
import { SqlTrackerStore } from '../store/sql-tracker-store';
import { buildReport, type Report, type ReportOptions } from './report-data';

/**
 * Where a report's figures come from: a database (sourceFromExecutor; `npm start` serves its own), or the running
 * `npm start` over HTTP (the operator tools' openReportSource, tools/open-report-source.ts).
 */
export interface ReportSource {
  describe: string;
  /** Whether every phone number in its answers is masked already (the running server's are): none can be shown. */
  masksPhones: boolean;
  report(options: ReportOptions): Promise<Report>;
  /** The alarm figures now, over the given cohorts (default: the stack's defaults). */
  health(windows?: HealthWindows): Promise<DeliveryHealth>;
  close(): Promise<void>;
}

export function sourceFromExecutor(executor: SqlExecutor, describe: string): ReportSource {
  return {
    describe,
    masksPhones: false,
    report: (options) => buildReport(async (sql, params) => (await executor.query(sql, params)).rows, options),
    health: (windows = DEFAULT_HEALTH_WINDOWS) => new SqlTrackerStore(executor).deliveryHealth(windows),
    close: () => executor.close(),
  };
}

/** Cohort windows from a query string (the local server's /delivery-health), with the one schema's ranges. */
export function windowsFromQuery(params: URLSearchParams): HealthWindows {
  const raw = Object.fromEntries(COHORT_KEYS.filter((k) => params.has(k)).map((k) => [k, params.get(k)]));
  return healthWindows(CohortSettings.parse(raw));
}
