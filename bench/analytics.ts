import { Client } from 'pg';
import { NO_RESEND_CODES, WHATSAPP_ERRORS } from '../lambdas/domain/whatsapp-errors';
import { DEFAULT_HEALTH_WINDOWS } from '../lambdas/store/health-store';
import { REPORT_FUNCTIONS } from '../lambdas/store/report-functions';
import type { TimedQuery } from './analytics-summary';
import { median, sample } from './stats';

const w = DEFAULT_HEALTH_WINDOWS;

export interface GenerationFigures {
  /** Wall time of the whole generation, every step below included. */
  seconds: number;
  loadSeconds: number;
  indexSeconds: number;
  vacuumSeconds: number;
  /** Time of public.rebuild_rollups(), or null when the schema has no rollups to rebuild. */
  rollupSeconds: number | null;
  /** The table with its indexes and TOAST, in bytes. */
  tableBytes: number;
}

export interface AnalyticsFigures {
  messages: number;
  generateSeconds: number;
  generation: GenerationFigures;
  baselineCountMs: number;
  /** Client-side median, its ratio to the baseline, and the server's own figure from EXPLAIN ANALYZE. */
  queries: Record<string, TimedQuery & { runs: number; ratioToCount: number; plan: string }>;
}

const noResend = `array[${NO_RESEND_CODES.join(', ')}]::integer[]`;
const period = { '24h': "interval '24 hours'", '7d': "interval '7 days'", '30d': "interval '30 days'" } as const;
/** The three periods the report is read over: a day (the daily report), a week, a month. */
function perPeriod(name: string, call: (from: string, to: string) => string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(period).map(([label, length]) => [`${name}_${label}`, call(`now() - ${length}`, 'now()')]),
  );
}

/**
 * Every report and alarm query, timed on a generated table of `messages` rows spread over 30 days: the sweeper's
 * alarm query, each function the report calls (lambdas/store/report-functions.ts REPORT_FUNCTIONS) with the
 * arguments lambdas/report/report-data.ts gives it, over a day, a week and a month where it takes a period, and
 * the views users query. Named arguments, as the report calls them.
 */
export const ANALYTICS_QUERIES: Record<string, string> = {
  // The sweeper's call, with the deployed default windows, at the start of the minute as the sweeper asks
  // (cohortInstant in lambdas/domain/alert-settings.ts).
  delivery_health: `select * from delivery_health(date_trunc('minute', now()), ${w.deliveryWindowMinutes}, ${w.deliveryGraceMinutes}, ${w.readWindowHours}, ${w.readGraceMinutes}, ${w.undeliveredAfterMinutes}, ${w.undeliveredWithinMinutes})`,
  // The sweeper's call per listed sender (config senderHealth): two phone number ids and an AiSensy project of the
  // generated data (GENERATE_SQL below).
  delivery_health_by_sender: `select * from delivery_health_by_sender(date_trunc('minute', now()), ${w.deliveryWindowMinutes}, ${w.deliveryGraceMinutes}, ${w.readWindowHours}, ${w.readGraceMinutes}, ${w.undeliveredAfterMinutes}, ${w.undeliveredWithinMinutes}, array['106540352242922', '114455667788990', '64b7e2a1f0c3d9e8a7b6c5d4'])`,
  summary_last_24h: "select * from delivery_summary(now() - interval '24 hours', now())",
  summary_last_7d: "select * from delivery_summary(now() - interval '7 days', now())",
  ...perPeriod(
    'delivery_report',
    (a, b) => `select * from delivery_report(period_start => ${a}, period_end => ${b}, by_campaign => false)`,
  ),
  ...perPeriod(
    'delivery_report_by_campaign',
    (a, b) => `select * from delivery_report(period_start => ${a}, period_end => ${b}, by_campaign => true)`,
  ),
  ...perPeriod(
    'delivery_report_by_sender_campaign',
    (a, b) =>
      `select * from delivery_report_by(period_start => ${a}, period_end => ${b}, by_sender => true, by_campaign => true)`,
  ),
  ...perPeriod('hourly_volume', (a, b) => `select * from hourly_volume(period_start => ${a}, period_end => ${b})`),
  ...perPeriod(
    'best_send_hours',
    (a, b) => `select * from best_send_hours(period_start => ${a}, period_end => ${b}, min_delivered => 20)`,
  ),
  ...perPeriod(
    'top_recipients',
    (a, b) => `select * from top_recipients(period_start => ${a}, period_end => ${b}, max_rows => 10)`,
  ),
  ...perPeriod(
    'failures_by_error',
    (a, b) => `select * from failures_by_error(period_start => ${a}, period_end => ${b})`,
  ),
  ...perPeriod(
    'read_heatmap',
    (a, b) => `select * from read_heatmap(period_start => ${a}, period_end => ${b}, time_zone => 'Asia/Kolkata')`,
  ),
  ...perPeriod(
    'delay_distribution',
    (a, b) => `select * from delay_distribution(period_start => ${a}, period_end => ${b})`,
  ),
  ...perPeriod(
    'delay_percentiles',
    (a, b) => `select * from delay_percentiles(period_start => ${a}, period_end => ${b})`,
  ),
  ...perPeriod(
    'pricing_breakdown',
    (a, b) => `select * from pricing_breakdown(period_start => ${a}, period_end => ${b})`,
  ),
  // The follow-up lists as the report reads them: the last day (week) and its first 1,000 rows (max_rows, 0029).
  resend_list_24h: `select * from resend_list(older_than_minutes => ${w.undeliveredAfterMinutes}, lookback_hours => 24, as_of => now(), no_resend_codes => ${noResend}, max_rows => 1000) limit 1000`,
  resend_left_out_24h: `select * from resend_left_out(lookback_hours => 24, as_of => now(), no_resend_codes => ${noResend})`,
  remind_list_7d:
    'select * from remind_list(older_than_hours => 24, lookback_days => 7, as_of => now(), max_rows => 1000) limit 1000',
  number_health: 'select * from number_health()',
  templates_needing_attention: 'select * from templates_needing_attention()',
  dashboard_view_30d: 'select * from message_status_dashboard',
  // Views that return every matching row: their time is the size of their answer, which no index or rollup shrinks.
  resend_view_all_rows: 'select * from messages_to_resend',
  remind_view_all_rows: 'select * from messages_to_remind',
  guide_dashboard_query_7d_unchanged: `select date_trunc('day', created_at) as day, count(*) as total,
      count(*) filter (where status ? 'delivered') as delivered, count(*) filter (where status ? 'read') as read,
      round(100.0 * count(*) filter (where status ? 'delivered') / count(*), 2) as delivery_rate
    from broadcasts_messages where created_at > now() - interval '7 days' group by 1 order by 1`,
};

/**
 * Queries the targets do not judge: the original guide's query (not ours: it is there to compare), and the views
 * that list every matching row (the report reads the same lists through remind_list/resend_list, limited).
 */
export const UNJUDGED_QUERIES: ReadonlySet<string> = new Set([
  'guide_dashboard_query_7d_unchanged',
  'resend_view_all_rows',
  'remind_view_all_rows',
]);

/** Each report function with the queries that call it (a unit test checks none is left out). */
export function reportFunctionsTimed(): Record<string, string[]> {
  return Object.fromEntries(
    REPORT_FUNCTIONS.map((fn) => [
      fn,
      Object.keys(ANALYTICS_QUERIES).filter((name) => new RegExp(`\\b${fn}\\(`).test(ANALYTICS_QUERIES[name]!)),
    ]),
  );
}

/** The server's own time for one run of `sql`: EXPLAIN ANALYZE's Execution Time, without per-node timing. */
async function serverExecutionMs(db: Client, sql: string): Promise<number> {
  const { rows } = await db.query<{ 'QUERY PLAN': [{ 'Execution Time': number }] }>(
    `explain (analyze, timing off, format json) ${sql}`,
  );
  return rows[0]!['QUERY PLAN'][0]['Execution Time'];
}

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

/** The scans of a plan, e.g. "Index Scan broadcasts_messages_sent_at_idx", to show which index a query uses. */
function scans(node: PlanNode): string[] {
  const here =
    /Scan/.test(node['Node Type']) && (node['Index Name'] || node['Relation Name'])
      ? [`${node['Node Type']}${node['Index Name'] ? ` ${node['Index Name']}` : ` ${node['Relation Name']}`}`]
      : [];
  return [...here, ...(node.Plans ?? []).flatMap(scans)].filter((v, i, a) => a.indexOf(v) === i);
}

/** Rows generated per INSERT statement: each is its own transaction, so a 10M load never holds one huge one. */
const CHUNK = 500_000;

/**
 * Failures as WhatsApp reports them, weighted roughly as a marketing sender sees them: mostly undeliverable numbers
 * and Meta's marketing limits, then re-engagement, opt-outs, the experiment hold-out and a long tail. Codes and
 * titles from the error catalogue (lambdas/domain/whatsapp-errors.ts).
 */
const FAILURE_WEIGHTS: [number, number][] = [
  [131026, 7],
  [131049, 5],
  [131047, 2],
  [131050, 1],
  [130472, 1],
  [131053, 1],
  [131048, 1],
  [131021, 1],
  [131051, 1],
];
const FAILURES = FAILURE_WEIGHTS.flatMap(([code, weight]) => {
  const title = WHATSAPP_ERRORS.find((e) => e.code === code)?.title ?? 'Unknown error';
  return Array.from({ length: weight }, () => ({ code, title }));
});

/**
 * The hook for rollups (issue 15, point 2): a bulk load may bypass or disable the triggers that keep rollup tables
 * up to date, so after loading, the generator rebuilds them with public.rebuild_rollups() if the schema has it.
 * Returns the seconds it took, or null when there is no such function (the schema before rollups).
 */
export async function rebuildRollupsIfPresent(db: Client): Promise<number | null> {
  // Callable without arguments: every argument has a default (migration 0022: the period, whole when omitted).
  const { rows } = await db.query<{ present: boolean }>(
    `select exists (select 1 from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                     where n.nspname = 'public' and p.proname = 'rebuild_rollups'
                       and p.pronargs = p.pronargdefaults) as present`,
  );
  if (!rows[0]?.present) return null;
  const started = performance.now();
  await db.query('select public.rebuild_rollups()');
  return (performance.now() - started) / 1000;
}

/** public.set_rollup_triggers as a function, when the schema has it (migration 0022 on). */
async function rollupTriggerSwitch(db: Client): Promise<((enabled: boolean) => Promise<void>) | undefined> {
  const { rows } = await db.query<{ present: boolean }>(
    "select to_regprocedure('public.set_rollup_triggers(boolean)') is not null as present",
  );
  if (!rows[0]?.present) return undefined;
  return async (enabled) => {
    await db.query('select public.set_rollup_triggers($1)', [enabled]);
  };
}

/**
 * Fills broadcasts_messages with `messages` generated rows over the 30 days before now, in SQL. Realistic enough
 * that every report query does real work: four senders (three business numbers of two accounts, one AiSensy
 * project), 40 campaigns and 10 % without one, ~3.5 % failures over nine error codes (a third before any sent
 * status), ~2.5 % never delivered, ~60 % of deliveries read with a long tail of read delays (some reads implying
 * the delivery), a few played, per-message pricing on sent messages, recipients who get several messages, and a
 * WhatsApp user id for ~6 % of them (a third of those with no phone). Statuses that would arrive after now are left
 * out, so the newest messages are still waiting, as in a live table.
 *
 * Loads like a bulk import: the secondary indexes are dropped first and built after (same indexes, same plans),
 * then VACUUM ANALYZE (what autovacuum would have done to a table of that age: statistics and the visibility map),
 * then the rollup hook.
 */
export async function generateMessages(url: string, messages: number): Promise<GenerationFigures> {
  const db = new Client({ connectionString: url });
  await db.connect();
  const started = performance.now();
  const since = (t: number) => (performance.now() - t) / 1000;
  try {
    await db.query('truncate broadcasts_messages');
    const { rows: indexes } = await db.query<{ name: string; definition: string }>(
      `select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as definition
         from pg_index i
        where i.indrelid = 'public.broadcasts_messages'::regclass
          and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)`,
    );
    for (const index of indexes) await db.query(`drop index ${index.name}`);
    const { rows: clock } = await db.query<{ now: Date }>('select now() as now');
    const now = clock[0]!.now;
    await db.query('select setseed(0.42)');
    // With rollups, the triggers stay off for the load: rebuildRollupsIfPresent computes them once after it.
    const triggers = await rollupTriggerSwitch(db);
    await triggers?.(false);
    const loadStarted = performance.now();
    for (let first = 1; first <= messages; first += CHUNK) {
      await db.query(GENERATE_SQL, [
        first,
        Math.min(messages, first + CHUNK - 1),
        messages,
        now,
        JSON.stringify(FAILURES),
      ]);
    }
    const loadSeconds = since(loadStarted);
    await triggers?.(true);
    const indexStarted = performance.now();
    for (const index of indexes) await db.query(index.definition);
    const indexSeconds = since(indexStarted);
    const vacuumStarted = performance.now();
    await db.query('vacuum (analyze) broadcasts_messages');
    const vacuumSeconds = since(vacuumStarted);
    const rollupSeconds = await rebuildRollupsIfPresent(db);
    const { rows: size } = await db.query<{ bytes: string }>(
      "select pg_total_relation_size('public.broadcasts_messages') as bytes",
    );
    return {
      seconds: since(started),
      loadSeconds,
      indexSeconds,
      vacuumSeconds,
      rollupSeconds,
      tableBytes: Number(size[0]!.bytes),
    };
  } finally {
    await db.end();
  }
}

// $1..$2: this chunk's row numbers; $3: all rows (to spread them over 30 days); $4: now; $5: the weighted failures.
const GENERATE_SQL = `
  insert into broadcasts_messages (
    message_id, phone_number, recipient_user_id, sender_waba_id, sender_phone_number_id, sender_display_phone_number,
    sender_project_id, reported_sent_at, reported_delivered_at, reported_read_at, played_at, failed_at, failure,
    campaign, pricing, created_at, updated_at)
  select 'wamid.gen' || lpad(g::text, 9, '0'),
         case when r.who >= 0.02 then '+9198' || lpad(p.recipient::text, 8, '0') end,
         case when r.who < 0.06 then 'IN.' || (1648738043000000 + p.recipient)::text end,
         (array['102290129340398', '102290129340398', '109876543210987', null])[p.sender],
         (array['106540352242922', '106540352242923', '114455667788990', null])[p.sender],
         (array['919800000001', '919800000002', '15550783881', null])[p.sender],
         case when p.sender = 4 then '64b7e2a1f0c3d9e8a7b6c5d4' end,
         case when not (p.failed and r.f < 0.33) then s.t end,
         case when p.delivered and not (p.read and r.f > 0.98) then s.t + p.delivery_delay end,
         case when p.read then s.t + p.delivery_delay + p.read_delay end,
         case when p.read and r.f < 0.01 then s.t + p.delivery_delay + p.read_delay + interval '12 seconds' end,
         case when p.failed then s.t + make_interval(secs => 1 + r.f * 5) end,
         case when p.failed then ($5::jsonb) -> floor(r.d * jsonb_array_length($5::jsonb))::int end,
         case when r.c >= 0.1 then 'campaign_' || (g % 40) end,
         case when not p.failed and r.c < 0.95 then jsonb_build_object(
           'billable', p.category <> 'service', 'pricing_model', 'PMP', 'category', p.category,
           'type', case when p.category = 'service' then 'free_customer_service' else 'regular' end) end,
         s.t, s.t
    from generate_series($1::int, $2::int) g
   cross join lateral (select random() + 0 * g as outcome, random() + 0 * g as who, random() + 0 * g as d,
                              random() + 0 * g as rr, random() + 0 * g as rd, random() + 0 * g as f,
                              random() + 0 * g as c, random() + 0 * g as snd, random() + 0 * g as cat) r
   cross join lateral (select $4::timestamptz - interval '30 days'
                              + (g::double precision / $3::int) * interval '30 days' as t) s
   cross join lateral (
     select r.outcome < 0.035 as failed,
            (g::bigint * 7919) % greatest($3::int / 4, 1000) as recipient,
            case when r.snd < 0.6 then 1 when r.snd < 0.85 then 2 when r.snd < 0.95 then 3 else 4 end as sender,
            (array['marketing', 'marketing', 'utility', 'authentication', 'service'])[1 + floor(r.cat * 5)::int] as category,
            make_interval(secs => 1 + r.d * 20 + case when r.d > 0.97 then r.d * 3600 else 0 end) as delivery_delay,
            make_interval(secs => 30 + power(r.rd, 6) * 172800) as read_delay) q0
   cross join lateral (
     select q0.*, q1.delivered,
            q1.delivered and r.rr < 0.6 and s.t + q0.delivery_delay + q0.read_delay < $4::timestamptz as read
       from (select not q0.failed and r.outcome >= 0.06
                    and s.t + q0.delivery_delay < $4::timestamptz as delivered) q1) p`;

export async function benchAnalytics(
  url: string,
  messages: number,
  short: boolean,
  /** Called after each query: a long run shows its figures as they come. */
  onQuery?: (name: string, figures: AnalyticsFigures['queries'][string]) => void,
  onGenerated?: (generation: GenerationFigures) => void,
): Promise<AnalyticsFigures> {
  const generation = await generateMessages(url, messages);
  onGenerated?.(generation);
  const db = new Client({ connectionString: url });
  await db.connect();
  // The report's functions are not inlined (they set search_path), so EXPLAIN shows only a Function Scan: the
  // statements inside, with the indexes they use, come from auto_explain, whose LOG lines reach this client.
  const nested: PlanNode[] = [];
  db.on('notice', (notice) => {
    const json = notice.message?.indexOf('{') ?? -1;
    if (json < 0) return;
    try {
      nested.push((JSON.parse(notice.message!.slice(json)) as { Plan: PlanNode }).Plan);
    } catch {
      // not a plan
    }
  });
  try {
    await db.query("load 'auto_explain'");
    await db.query('set auto_explain.log_nested_statements = on');
    await db.query('set auto_explain.log_format = json');
    await db.query('set auto_explain.log_min_duration = -1');
    await db.query('set client_min_messages = log');
    const times = short ? 3 : 7;
    const baselineCountMs = median(await sample(times, () => db.query('select count(*) from broadcasts_messages'), 1));
    const queries: AnalyticsFigures['queries'] = {};
    for (const [name, sql] of Object.entries(ANALYTICS_QUERIES)) {
      // EXPLAIN ANALYZE first: it also warms the cache for the timed runs. Slow queries get fewer runs, so a 10M
      // table stays within minutes; fast ones get enough for a steady median.
      nested.length = 0;
      await db.query('set auto_explain.log_min_duration = 0');
      const { rows } = await db.query<{ 'QUERY PLAN': [{ 'Execution Time': number; Plan: PlanNode }] }>(
        `explain (analyze, format json) ${sql}`,
      );
      await db.query('set auto_explain.log_min_duration = -1');
      const explained = rows[0]!['QUERY PLAN'][0];
      const firstMs = explained['Execution Time'];
      // --short (CI) only checks that every query runs: one timed run after EXPLAIN.
      const runs = short ? 1 : firstMs > 3000 ? 1 : firstMs > 300 ? 3 : times;
      const ms = median(await sample(runs, () => db.query(sql), 0));
      // The server's time as the targets judge it: warm, without the per-node timing and the nested plans of the
      // run above (which reads cold pages and can take several times as long), the median of as many runs.
      const serverTimes: number[] = [];
      for (let run = 0; run < runs; run++) serverTimes.push(await serverExecutionMs(db, sql));
      queries[name] = {
        medianMs: ms,
        runs,
        ratioToCount: ms / baselineCountMs,
        explainMs: median(serverTimes),
        plan: [...new Set([explained.Plan, ...nested].flatMap(scans))].join(', '),
        judged: !UNJUDGED_QUERIES.has(name),
      };
      onQuery?.(name, queries[name]!);
    }
    return { messages, generateSeconds: generation.seconds, generation, baselineCountMs, queries };
  } finally {
    await db.end();
  }
}
