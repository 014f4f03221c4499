import { spawn } from 'node:child_process';
import { optionsTakenByNpm, parseCliArgs, periodOptions, UsageError } from '../../lambdas/shared/cli';

/** The operator CLIs' one parser (lambdas/shared/cli.ts): strict, so a mistyped option is an error, never ignored. */
describe('parseCliArgs', () => {
  const options = {
    json: { type: 'boolean', default: false },
    since: { type: 'string' },
    scenario: { type: 'string', multiple: true, default: [] as string[] },
  } as const;

  it('reads booleans, values (either spelling) and repeated options', () => {
    expect(parseCliArgs(['--json', '--since', '24h', '--scenario', 'a', '--scenario=b'], options).values).toEqual({
      json: true,
      since: '24h',
      scenario: ['a', 'b'],
    });
    expect(parseCliArgs([], options).values).toEqual({ json: false, scenario: [] });
  });
  it.each([
    [['--verbose'], 'unknown option --verbose'],
    [['--since'], '--since needs a value'],
    [['--since', '--json'], '--since needs a value (one starting with "-" is written --since=-VALUE)'],
    [['extra'], 'unexpected argument extra'],
    [['--json=yes'], "Option '--json' does not take an argument"],
    // The last of two would win silently (`erase --phone A --phone B` erased B alone).
    [['--since', '24h', '--since=7d'], '--since is given more than once: give it once'],
    [['--json', '--json'], '--json is given more than once: give it once'],
  ])('refuses %p: %s', (argv, message) => {
    expect(() => parseCliArgs(argv, options)).toThrow(new UsageError(message));
  });
  it('takes positionals only when allowed', () => {
    expect(parseCliArgs(['stop', 'dir'], {}, { allowPositionals: true }).positionals).toEqual(['stop', 'dir']);
  });
});

describe('options npm took as its own (`npm run db:migrate --dry-run`, without the --)', () => {
  const options = { 'dry-run': { type: 'boolean', default: false }, phone: { type: 'string' } } as const;
  const underNpm = { npm_lifecycle_event: 'db:migrate', npm_config_dry_run: 'true' };

  it('names an option npm set in its environment instead of passing it', () => {
    expect(optionsTakenByNpm(options, underNpm, parseCliArgs([], options).values)).toEqual(['dry-run']);
    expect(
      optionsTakenByNpm(options, { npm_lifecycle_event: 'erase', npm_config_phone: '+91' }, { 'dry-run': false }),
    ).toEqual(['phone']);
  });

  it('says nothing when the tool got the option, or npm did not start it', () => {
    expect(optionsTakenByNpm(options, underNpm, parseCliArgs(['--dry-run'], options).values)).toEqual([]);
    expect(optionsTakenByNpm(options, { npm_config_dry_run: 'true' }, { 'dry-run': false })).toEqual([]);
    expect(optionsTakenByNpm(options, { npm_lifecycle_event: 'db:migrate' }, { 'dry-run': false })).toEqual([]);
  });
});

describe('a CLI whose reader leaves early (`| head`)', () => {
  /** A CLI (through parseCli or not) that prints 20,000 lines, then finishes its work 50 ms later with exit code 3. */
  const cli = (throughParseCli: boolean) => `
    const { parseCli } = require('./lambdas/shared/cli.ts');
    ${throughParseCli ? "parseCli({ name: 'lines', usage: 'lines', options: {} });" : ''}
    for (let i = 0; i < 20000; i++) process.stdout.write('line ' + i + '\\n');
    setTimeout(() => { process.stderr.write('work done\\n'); process.exitCode = 3; }, 50);`;

  /** Runs it, reads its first chunk and closes the pipe, as `head -1` does. */
  function runAndLeave(throughParseCli: boolean): Promise<{ code: number | null; stderr: string; first: string }> {
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', cli(throughParseCli)], { cwd: process.cwd() });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    return new Promise((resolve) => {
      let first = '';
      child.stdout.once('data', (chunk) => {
        first = String(chunk).split('\n')[0]!;
        child.stdout.destroy();
      });
      child.on('close', (code) => resolve({ code, stderr, first }));
    });
  }

  it('stops printing and finishes its work, exiting with its own code and no trace', async () => {
    const run = await runAndLeave(true);
    expect(run.first).toBe('line 0');
    expect(run.stderr).toBe('work done\n');
    expect(run.code).toBe(3);
  }, 60_000);

  it('(without parseCli, the same script dies of EPIPE halfway: what the test above guards against)', async () => {
    const run = await runAndLeave(false);
    expect(run.stderr).toContain('EPIPE');
    expect(run.stderr).not.toContain('work done');
    expect(run.code).toBe(1);
  }, 60_000);
});

/** --from/--to of report, replay and rollups:rebuild: one reading for all three. */
describe('periodOptions', () => {
  it('reads a date as its whole UTC day and a time with its zone, and leaves what was not given undefined', () => {
    expect(periodOptions({ from: '2026-11-01', to: '2026-11-01' })).toEqual({
      from: new Date('2026-11-01T00:00:00Z'),
      to: new Date('2026-11-02T00:00:00Z'),
    });
    expect(periodOptions({ from: '2026-11-01T10:00+05:30' })).toEqual({
      from: new Date('2026-11-01T04:30:00Z'),
      to: undefined,
    });
    expect(periodOptions({})).toEqual({ from: undefined, to: undefined });
  });

  it.each([
    [{ from: '2026-11-01T10:00' }, '--from "2026-11-01T10:00" has no time zone'],
    [{ to: '' }, '--to "" expects an ISO 8601 date or time'],
    [{ from: '2026-11-02', to: '2026-11-01' }, '--from must be before --to'],
    [{ from: '2026-11-01T10:00Z', to: '2026-11-01T10:00Z' }, '--from must be before --to'],
    [{ to: '2026-02-30' }, '--to "2026-02-30" is not a real date'],
  ])('refuses %j as a usage error naming the option', (values, message) => {
    expect(() => periodOptions(values)).toThrow(UsageError);
    expect(() => periodOptions(values)).toThrow(message);
  });
});
