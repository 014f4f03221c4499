/**
 * `npm run alerts:check`: evaluates the database-side alarm rules now and prints which would fire and why.
 * Exit code 2 when a critical one fires (for cron or CI), 1 when it cannot check, 0 otherwise.
 */
import type { DeliveryHealth } from '../lambdas/store/health-store';
import { CLOUDWATCH_ONLY, evaluateAlerts } from './alert-rules';
import { openReportSource } from './report-source';

async function main(): Promise<number> {
  const json = process.argv.includes('--json');
  const source = await openReportSource();
  let health: DeliveryHealth;
  try {
    health = await source.health();
  } finally {
    await source.close();
  }
  const results = evaluateAlerts(health);
  const critical = results.some((r) => r.fires && r.severity === 'critical');
  if (json) {
    process.stdout.write(`${JSON.stringify({ health, results, critical, cloudwatch_only: CLOUDWATCH_ONLY }, null, 2)}\n`);
  } else {
    process.stdout.write(`Alert check at ${health.computed_at} (source: ${source.describe})\n\n`);
    for (const r of results) process.stdout.write(`${r.fires ? 'FIRES' : 'ok   '}  ${r.severity.padEnd(8)} ${r.name.padEnd(13)} ${r.reason}\n`);
    process.stdout.write(`\nOnly CloudWatch can evaluate: ${CLOUDWATCH_ONLY.join(', ')}.\n`);
    process.stdout.write(critical ? 'A critical alert fires.\n' : 'No critical alert.\n');
  }
  return critical ? 2 : 0;
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`alerts:check failed: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
