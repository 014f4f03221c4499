/**
 * pricing_breakdown on its rollup (migration 0026) against its row-based original (0014, kept in
 * test/support/row-based-reports.sql as oracle.pricing_breakdown), on the same generated table, in the same run;
 * and the write path's cost of the pricing triggers (apply_status_updates, one writer, batches of 100, with the
 * triggers on and off, alternated).
 *
 *   DATABASE_URL=postgres://.../scratch npx tsx bench/pricing-rollup.ts [messages=1000000]
 *
 * DATABASE_URL must be a scratch database with every migration applied: the table is truncated and refilled.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import type { StatusUpdate } from '../lambdas/domain/status-update';
import { generateMessages } from './analytics';
import { median } from './stats';
import { statusWorkload } from './workload';
import { runOurs } from './write-path';

const PERIODS = { '24h': "interval '24 hours'", '7d': "interval '7 days'", '30d': "interval '30 days'" };
const switchPricingTriggers = (verb: 'enable' | 'disable') =>
  `alter table broadcasts_messages ${verb} trigger broadcasts_messages_pricing_rollup_insert, ${verb} trigger broadcasts_messages_pricing_rollup_update`;

/** The write-path workload with what the pricing rollup keys on: pricing on `sent`, numbers over 60 prefixes. */
function pricedWorkload(): StatusUpdate[] {
  const categories = ['marketing', 'utility', 'authentication', 'service'];
  return statusWorkload(60_000, 25_000).map((u, i) => {
    const m = Number(u.message_id.replace(/\D/g, ''));
    if (u.status !== 'sent') return u;
    return {
      ...u,
      phone_number: `+${91 + (m % 6)}${70 + (m % 10)}${String(10_000_000 + m).slice(-8)}`,
      pricing: { billable: i % 5 !== 0, pricing_model: 'PMP', category: categories[m % 4]!, type: 'regular' },
    } as StatusUpdate;
  });
}

async function main() {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL: a scratch database with the migrations applied');
  const messages = Number(process.argv[2] ?? 1_000_000);
  const db = new Client({ connectionString: url });
  await db.connect();
  await db.query(readFileSync(path.join(__dirname, '..', 'test', 'support', 'row-based-reports.sql'), 'utf8'));

  const generation = await generateMessages(url, messages);
  const { rows: size } = await db.query<{ n: string }>(
    "select string_agg(grain || ' ' || n, ', ' order by grain) as n from (select grain, count(*) as n from broadcasts_pricing_rollup group by 1) g",
  );
  console.log(
    `generated ${messages} messages in ${generation.seconds.toFixed(1)} s; rebuild_rollups ${generation.rollupSeconds?.toFixed(1)} s; pricing rollup rows: ${size[0]!.n}`,
  );
  // One clock for both: now() moves between the two calls, and so would the newest messages at the period's end.
  const { rows: clock } = await db.query<{ now: string }>('select now()::text as now');
  const now = `'${clock[0]!.now}'::timestamptz`;
  for (const [label, length] of Object.entries(PERIODS)) {
    const args = `${now} - ${length}, ${now}`;
    const time = async (schema: string) => {
      const runs: number[] = [];
      let rows: unknown[] = [];
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        rows = (await db.query(`select * from ${schema}.pricing_breakdown(${args})`)).rows;
        runs.push(performance.now() - started);
      }
      return { ms: median(runs), rows };
    };
    const before = await time('oracle');
    const after = await time('public');
    const same = JSON.stringify(before.rows) === JSON.stringify(after.rows);
    console.log(
      `pricing_breakdown_${label}: rows ${before.ms.toFixed(0)} ms, rollup ${after.ms.toFixed(0)} ms (${(before.ms / after.ms).toFixed(1)}x), ${after.rows.length} result rows, ${same ? 'same' : 'DIFFERENT'} figures`,
    );
  }

  const updates = pricedWorkload();
  const rates: Record<'on' | 'off', number[]> = { on: [], off: [] };
  for (let round = 0; round < 5; round++) {
    for (const mode of ['off', 'on'] as const) {
      await db.query(switchPricingTriggers(mode === 'on' ? 'enable' : 'disable'));
      const result = await runOurs(url, updates, 100, 1);
      rates[mode].push(result.perSecond);
    }
  }
  await db.query(switchPricingTriggers('enable'));
  const on = median(rates.on);
  const off = median(rates.off);
  console.log(
    `write path, 1 writer, batches of 100, ${updates.length} updates: ${off.toFixed(0)}/s without the pricing triggers, ${on.toFixed(0)}/s with them (${(100 * (1 - on / off)).toFixed(1)} % slower); runs off ${rates.off.map((r) => r.toFixed(0)).join(', ')}, on ${rates.on.map((r) => r.toFixed(0)).join(', ')}`,
  );
  await db.end();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
