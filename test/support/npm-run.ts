import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
export const ROOT = path.resolve(__dirname, '..', '..');

/**
 * How long one tool run may take. A run is a fresh npm, Node and tsx: about 2 s on a quiet machine, but CI runs two
 * test files beside a PostgreSQL server on 2 cores: three runs there passed jest's 60 s (stop 23), and one run on
 * a machine loaded by other work passed 60 s alone.
 */
export const NPM_RUN_DEADLINE_MS = 120_000;

/** A test's timeout when it makes `runs` tool runs one after another: each gets its whole deadline. */
export const timeoutForRuns = (runs: number) => runs * NPM_RUN_DEADLINE_MS + 10_000;

/**
 * Runs `npm run --silent <script> -- args` as an operator would and returns its exit code and output, whatever the
 * code. DATABASE_URL is cleared unless `env` sets it.
 */
export async function npmRun(script: string, args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await execFileAsync('npm', ['run', '--silent', script, '--', ...args], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
      timeout: NPM_RUN_DEADLINE_MS,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
