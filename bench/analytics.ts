import { Client } from 'pg';
import { DEFAULT_HEALTH_WINDOWS } from '../lambdas/store/health-store';
import { median, sample } from './stats';

const w = DEFAULT_HEALTH_WINDOWS;

export interface AnalyticsFigures {
  messages: number;
  generateSeconds: number;
  baselineCountMs: number;
  /** Client-side median, its ratio to the baseline, and the server's own figure from EXPLAIN ANALYZE. */
  queries: Record<string, { medianMs: number; ratioToCount: number; explainMs: number; plan: string }>;
}

/** Queries of the alarms and the report, timed on a generated table of `messages` rows spread over 30 days. */
export const ANALYTICS_QUERIES: Record<string, string> = {
  // The sweeper's call, with the deployed default windows.
  delivery_health: `select * from delivery_health(now(), ${w.deliveryWindowMinutes}, ${w.deliveryGraceMinutes}, ${w.readWindowHours}, ${w.readGraceMinutes}, ${w.undeliveredAfterMinutes}, ${w.undeliveredWithinMinutes})`,
  summary_last_24h: "select * from delivery_summary(now() - interval '24 hours', now())",
  summary_last_7d: "select * from delivery_summary(now() - interval '7 days', now())",
  report_by_campaign_24h: "select * from delivery_report(now() - interval '24 hours', now(), true)",
  hourly_volume_24h: "select * from hourly_volume(now() - interval '24 hours', now())",
  best_send_hours_7d: "select * from best_send_hours(now() - interval '7 days', now())",
  top_recipients_24h: "select * from top_recipients(now() - interval '24 hours', now())",
  failures_by_error_24h: "select * from failures_by_error(now() - interval '24 hours', now())",
  resend_list: 'select * from messages_to_resend',
  remind_list: 'select * from messages_to_remind',
  dashboard_view_30d: 'select * from message_status_dashboard',
  guide_dashboard_query_7d_unchanged: `select date_trunc('day', created_at) as day, count(*) as total,
      count(*) filter (where status ? 'delivered') as delivered, count(*) filter (where status ? 'read') as read,
      round(100.0 * count(*) filter (where status ? 'delivered') / count(*), 2) as delivery_rate
    from broadcasts_messages where created_at > now() - interval '7 days' group by 1 order by 1`,
};

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

export async function generateMessages(url: string, messages: number): Promise<number> {
  const db = new Client({ connectionString: url });
  await db.connect();
  const started = performance.now();
  try {
    await db.query('truncate broadcasts_messages');
    await db.query('select setseed(0.42)');
    await db.query(
      `insert into broadcasts_messages (message_id, phone_number, reported_sent_at, reported_delivered_at, reported_read_at,
                                        failed_at, failure, campaign, created_at, updated_at)
       select 'wamid.a' || g, '+9198' || lpad((g % 100000000)::text, 8, '0'), s.sent,
              case when r.r1 >= 0.04 then s.sent + make_interval(secs => 1 + r.r2 * 30) end,
              case when r.r1 >= 0.04 and r.r3 < 0.6 then s.sent + make_interval(secs => 60 + r.r3 * 7200) end,
              case when r.r1 < 0.03 then s.sent + interval '2 seconds' end,
              case when r.r1 < 0.03 then '{"code": 131026, "title": "Message undeliverable"}'::jsonb end,
              'campaign_' || (g % 20), s.sent, s.sent
         from generate_series(1, $1::int) g
        cross join lateral (select random() + 0 * g as r1, random() + 0 * g as r2, random() + 0 * g as r3) r
        cross join lateral (select now() - interval '30 days' + (g::double precision / $1::int) * interval '30 days' as sent) s`,
      [messages],
    );
    await db.query('analyze broadcasts_messages');
  } finally {
    await db.end();
  }
  return (performance.now() - started) / 1000;
}

export async function benchAnalytics(url: string, messages: number, short: boolean): Promise<AnalyticsFigures> {
  const generateSeconds = await generateMessages(url, messages);
  const db = new Client({ connectionString: url });
  await db.connect();
  try {
    const times = short ? 3 : 7;
    const baselineCountMs = median(await sample(times, () => db.query('select count(*) from broadcasts_messages'), 1));
    const queries: AnalyticsFigures['queries'] = {};
    for (const [name, sql] of Object.entries(ANALYTICS_QUERIES)) {
      const ms = median(await sample(times, () => db.query(sql), 1));
      const { rows } = await db.query<{ 'QUERY PLAN': [{ 'Execution Time': number; Plan: PlanNode }] }>(
        `explain (analyze, format json) ${sql}`,
      );
      const explained = rows[0]!['QUERY PLAN'][0];
      queries[name] = {
        medianMs: ms,
        ratioToCount: ms / baselineCountMs,
        explainMs: explained['Execution Time'],
        plan: scans(explained.Plan).join(', '),
      };
    }
    return { messages, generateSeconds, baselineCountMs, queries };
  } finally {
    await db.end();
  }
}
