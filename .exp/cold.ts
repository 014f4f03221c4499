import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { LAMBDA_BUNDLING } from '../lib/constructs/tracker-function';
async function b(out: string, external: string[]) {
  await build({ entryPoints: ['lambdas/sweeper/handler.ts'], outfile: out, bundle: true, platform: 'node', format: 'esm', target: 'node22', minify: true, sourcemap: true, sourcesContent: false, mainFields: ['module','main'], banner: { js: LAMBDA_BUNDLING.banner }, external, logLevel: 'error' });
}
(async () => {
  await b('.exp/old/index.mjs', ['@aws-sdk/*']);
  await b('.exp/new/index.mjs', [...LAMBDA_BUNDLING.externalModules]);
  const script = `const c=()=>{const u=process.cpuUsage();return (u.user+u.system)/1000}; const t0=performance.now(), c0=c(); await import(process.argv[1]); console.log(JSON.stringify([performance.now()-t0, c()-c0]));`;
  const env = { PATH: process.env.PATH!, AWS_REGION: 'eu-west-1', POWERTOOLS_LOG_LEVEL: 'SILENT', SUPABASE_SECRET_ID: 'x', REPORT_BUCKET_NAME: 'b', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  const r: Record<string, number[][]> = { old: [], new: [] };
  for (let i = 0; i < 9; i++) for (const k of ['old', 'new']) r[k]!.push(JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script, `${process.cwd()}/.exp/${k}/index.mjs`], { env }).toString().trim().split('\n').pop()!));
  const med = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  for (const k of ['old', 'new']) console.log(k, 'wall', med(r[k]!.map((x) => x[0]!)).toFixed(0), 'cpu', med(r[k]!.map((x) => x[1]!)).toFixed(0));
})();
