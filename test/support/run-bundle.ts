import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The Node binaries the bundles are checked on: this one (20) and NODE22_BIN when given (CI installs it). */
export function nodeBinaries(): { label: string; bin: string }[] {
  const bins = [{ label: `node ${process.version}`, bin: process.execPath }];
  const node22 = process.env.NODE22_BIN;
  if (node22 && existsSync(node22)) bins.push({ label: 'node 22', bin: node22 });
  else if (process.env.CI) throw new Error('CI must set NODE22_BIN: the Lambda code has to be checked on Node 22');
  return bins;
}

const CONTEXT = {
  functionName: 'bundle-test',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:bundle-test',
  memoryLimitInMB: '256',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  logGroupName: '/aws/lambda/bundle-test',
  logStreamName: '2026/11/24/[$LATEST]abc',
};

/**
 * Loads a bundle in a fresh Node process, as the Lambda runtime would, invokes its `handler` once with `event`
 * and returns the result and the wall time of the whole process (the cold start).
 */
export async function invokeBundle(bin: string, bundle: string, event: unknown, env: Record<string, string>) {
  const script = `
    const started = performance.now();
    const { handler } = await import(process.argv[1]);
    const result = await handler(JSON.parse(process.env.BUNDLE_EVENT), ${JSON.stringify(CONTEXT)});
    process.stdout.write('\\nRESULT ' + JSON.stringify({ result, ms: performance.now() - started }) + '\\n');
  `;
  const { stdout } = await run(bin, ['--enable-source-maps', '--input-type=module', '-e', script, bundle], {
    env: {
      PATH: process.env.PATH ?? '',
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      BUNDLE_EVENT: JSON.stringify(event),
      // The fixtures are dated 2024: see test/support/env.ts.
      ...(process.env.MAX_STATUS_AGE_DAYS ? { MAX_STATUS_AGE_DAYS: process.env.MAX_STATUS_AGE_DAYS } : {}),
      ...env,
    },
    timeout: 30_000,
  });
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`no result from the bundle:\n${stdout}`);
  return JSON.parse(line.slice(7)) as { result: any; ms: number };
}
