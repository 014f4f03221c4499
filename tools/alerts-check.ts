/**
 * `npm run alerts:check`: evaluates the database-side alarm rules now, with the settings the stack deploys
 * (cdk.json context and the environment, read by the same loadConfig as `cdk synth`), and prints which would fire
 * and why. Exit code 2 when a critical one fires (for cron or CI), 1 when it cannot check (a usage error too), 0 otherwise.
 */
import { evaluateHealthAlerts } from '../lambdas/domain/alert-rules';
import { CLOUDWATCH_ALARMS, healthWindows } from '../lambdas/domain/alert-settings';
import { parseCli } from '../lambdas/shared/cli';
import type { DeliveryHealth } from '../lambdas/store/health-store';
import { loadDeployedConfig } from './deployed-config';
import { openReportSource } from './open-report-source';

/** The alarms only CloudWatch can evaluate (they watch AWS metrics): listed so nobody mistakes a green check for all clear. */
const DATABASE_SIDE = new Set(['deliveryRate', 'undelivered', 'readRate', 'deliveryTime']);
const CLOUDWATCH_ONLY = CLOUDWATCH_ALARMS.filter((name) => !DATABASE_SIDE.has(name));

const { values } = parseCli({
  name: 'alerts:check',
  usage: 'npm run alerts:check [-- --json]',
  options: { json: { type: 'boolean', default: false } },
  // 2 means a critical alert fires: a mistyped option in a cron job must not read as one.
  usageExitCode: 1,
});

async function main(): Promise<number> {
  const json = values.json;
  const config = loadDeployedConfig();
  const source = await openReportSource();
  let health: DeliveryHealth;
  try {
    health = await source.health(healthWindows(config));
  } finally {
    await source.close();
  }
  const results = evaluateHealthAlerts(health, config.alarms);
  const critical = results.some((r) => r.fires && r.severity === 'critical');
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ health, results, critical, cloudwatch_only: CLOUDWATCH_ONLY }, null, 2)}\n`,
    );
  } else {
    process.stdout.write(
      `Alert check at ${health.computed_at} (source: ${source.describe}; settings: cdk.json and environment)\n\n`,
    );
    for (const r of results) {
      const state = !r.enabled ? 'off  ' : r.fires ? 'FIRES' : 'ok   ';
      process.stdout.write(`${state}  ${r.severity.padEnd(8)} ${r.name.padEnd(13)} ${r.reason}\n`);
    }
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
