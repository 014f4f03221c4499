import { readFileSync } from 'node:fs';
import path from 'node:path';
import { npmRun as npmRunWith, ROOT, timeoutForRuns } from '../support/npm-run';

/** Every operator CLI run with tsx by an npm script (`npm start` is the server, not a CLI). */
const scripts = new Map(
  Object.entries(
    (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts,
  ).filter(([name, command]) => command.startsWith('tsx ') && name !== 'start'),
);

// Nothing may be reached: the option is refused before any database, server or AWS call.
const npmRun = (script: string, args: string[]) =>
  npmRunWith(script, args, {
    DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    LOCAL_URL: 'http://127.0.0.1:1',
    AWS_REGION: 'eu-west-1',
  });

const entry = (script: string) => path.join(ROOT, scripts.get(script)!.replace(/^tsx /, ''));

describe('operator CLIs refuse what they do not understand', () => {
  it('every CLI parses its command line with lambdas/shared/cli.ts', () => {
    expect([...scripts.keys()]).toEqual(
      expect.arrayContaining([
        'report',
        'alerts:check',
        'alerts:simulate',
        'dlq:redrive',
        'seed:demo',
        'erase',
        'db:migrate',
        'bench',
        'load',
        'bundle',
      ]),
    );
    for (const script of scripts.keys())
      expect([script, readFileSync(entry(script), 'utf8')]).toEqual([script, expect.stringMatching(/\bparseCli\(/)]);
  });

  // A few, run as an operator would (each start costs seconds); the parser itself is tested in test/unit/cli-args.
  it.each(['report', 'erase', 'db:migrate', 'dlq:redrive'])(
    '%s: an unknown option is an error naming it, with the usage, exit code 2',
    async (script) => {
      const { code, stdout, stderr } = await npmRun(script, ['--no-such-option']);
      expect(stderr).toContain(`${script}: unknown option --no-such-option\nusage: npm run ${script}`);
      expect(code).toBe(2);
      expect(stdout).toBe('');
    },
    timeoutForRuns(1),
  );

  it(
    'alerts:check answers a usage error with 1 ("cannot check"): its 2 means a critical alert fires',
    async () => {
      const { code, stderr } = await npmRun('alerts:check', ['--jsn']);
      expect(stderr).toContain('alerts:check: unknown option --jsn\nusage: npm run alerts:check');
      expect(code).toBe(1);
    },
    timeoutForRuns(1),
  );

  it(
    '--help prints the usage and exits 0',
    async () => {
      const { code, stdout } = await npmRun('report', ['--help']);
      expect(code).toBe(0);
      expect(stdout).toMatch(/^usage: npm run report -- \[--since 24h/);
    },
    timeoutForRuns(1),
  );
});
