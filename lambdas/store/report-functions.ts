/**
 * The SQL functions the report is built from (supabase/migrations/0004, 0012, 0014, 0019, 0021 and 0029; executable by service_role
 * only, see their grants). Every section of the report is one call of one of them, so any adapter that can
 * call a function by name with named arguments can build the whole report: node-postgres and PGlite with SQL
 * (sqlReportFunctionCall), Supabase's PostgREST with `rpc` (SupabaseTrackerStore.callReportFunction).
 */
export const REPORT_FUNCTIONS = [
  'delivery_report',
  'hourly_volume',
  'best_send_hours',
  'top_recipients',
  'failures_by_error',
  'resend_list',
  'resend_left_out',
  'remind_list',
  'read_heatmap',
  'delay_distribution',
  'delay_percentiles',
  'pricing_breakdown',
  'delivery_report_by',
  'number_health',
  'templates_needing_attention',
] as const;
export type ReportFunction = (typeof REPORT_FUNCTIONS)[number];

export type ReportRows = Record<string, unknown>[];

/**
 * Calls `fn` with named arguments (the parameter names of its SQL signature); `limit` keeps only its first rows
 * (PostgREST's `limit` on an rpc, SQL's `limit` on a direct connection).
 */
export type ReportFunctionCall = (
  fn: ReportFunction,
  args: Record<string, string | number | boolean | readonly number[]>,
  limit?: number,
) => Promise<ReportRows>;

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/** The calls as SQL over a direct connection, with named-argument notation (`fn(period_start => $1, ...)`). */
export function sqlReportFunctionCall(
  query: (sql: string, params: unknown[]) => Promise<ReportRows>,
): ReportFunctionCall {
  return (fn, args, limit) => {
    const names = Object.keys(args);
    // Names are spliced into the SQL: only the known functions and plain identifiers get there.
    if (!REPORT_FUNCTIONS.includes(fn) || names.some((n) => !IDENTIFIER.test(n)))
      throw new Error(`not a report function call: ${fn}(${names.join(', ')})`);
    if (limit !== undefined && !Number.isSafeInteger(limit)) throw new Error(`limit must be an integer, not ${limit}`);
    const call = `public.${fn}(${names.map((n, i) => `${n} => $${i + 1}`).join(', ')})`;
    return query(`select * from ${call}${limit === undefined ? '' : ` limit ${limit}`}`, Object.values(args));
  };
}
