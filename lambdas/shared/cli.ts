import { type ParseArgsConfig, parseArgs } from 'node:util';
import { parsePeriodBound } from '../domain/timestamps';

/**
 * The one argument parser of the operator CLIs (tools/, scripts/, bench/: it lives here, the leaf all three may
 * import). Node's `util.parseArgs` in strict mode, so an unknown option, a missing value or a stray argument is an
 * error naming it, never silently ignored. `--help` (or `-h`) prints the usage and exits 0; a usage error prints
 * `<name>: <problem>` and the usage on stderr and exits 2 (see `Cli.usageExitCode`). Options are written
 * `--name value` or `--name=value`; a value starting with `-` needs the `=` form.
 */

/** The options of one CLI, as `util.parseArgs` takes them. */
export type CliOptions = NonNullable<ParseArgsConfig['options']>;

/** A command-line mistake: the CLI prints it with its usage and exits with its usage exit code. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface Cli<O extends CliOptions> {
  /** How messages start: the npm script's name, e.g. `report`. */
  name: string;
  /** The synopsis printed after `usage: `, e.g. `npm run report -- [--json]`. */
  usage: string;
  options: O;
  /** Whether arguments that are not options are accepted (returned as `positionals`). @default false */
  allowPositionals?: boolean;
  /** The exit code of a usage error. @default 2 */
  usageExitCode?: number;
}

/** The options every CLI understands. */
const HELP = { help: { type: 'boolean', short: 'h' } } as const;

/** Node's messages, shorter: the option named first, without the advice on positionals after `--`. */
function usageMessage(error: Error): string {
  const code = (error as { code?: string }).code;
  const unknown = /^Unknown option '([^']+)'/.exec(error.message);
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown) return `unknown option ${unknown[1]}`;
  const positional = /^Unexpected argument '([^']*)'/.exec(error.message);
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL' && positional) return `unexpected argument ${positional[1]}`;
  const missing = /^Option '(-[^' ]+)(?: <value>)?' argument (missing|is ambiguous)/.exec(error.message);
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && missing) {
    return `${missing[1]} needs a value${missing[2] === 'missing' ? '' : ` (one starting with "-" is written ${missing[1]}=-VALUE)`}`;
  }
  return error.message;
}

/**
 * Parses `argv` (strict) or throws a UsageError naming the offending option. Pure: for tests and for parsers that
 * check the values further (tools/report-args.ts).
 */
export function parseCliArgs<const O extends CliOptions>(
  argv: readonly string[],
  options: O,
  config: { allowPositionals?: boolean } = {},
) {
  try {
    const { tokens, ...parsed } = parseArgs({
      args: [...argv],
      options,
      strict: true,
      allowPositionals: config.allowPositionals ?? false,
      tokens: true,
    });
    // parseArgs keeps the last of an option given twice: `erase --phone A --phone B` would erase B alone, silently.
    const seen = new Set<string>();
    for (const token of tokens) {
      if (token.kind !== 'option' || options[token.name]?.multiple) continue;
      if (seen.has(token.name)) throw new UsageError(`--${token.name} is given more than once: give it once`);
      seen.add(token.name);
    }
    return parsed;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))
      throw new UsageError(usageMessage(error as Error));
    throw error;
  }
}

/**
 * The CLI's options npm took as its own: `npm run db:migrate --dry-run`, without the `--` before the tool's options,
 * gives the tool no argument and sets `npm_config_dry_run` instead, so the migration would run for real. Only options
 * not on the command line and only when npm started the process (`npm_lifecycle_event`).
 */
export function optionsTakenByNpm(
  options: CliOptions,
  env: Readonly<Record<string, string | undefined>>,
  given: Readonly<Record<string, unknown>>,
): string[] {
  if (!env.npm_lifecycle_event) return [];
  return Object.keys(options).filter(
    (name) =>
      (given[name] === undefined || given[name] === options[name]?.default) &&
      Boolean(env[`npm_config_${name.replace(/-/g, '_')}`]),
  );
}

/** Prints a usage error and ends the process with the CLI's usage exit code (before the CLI opened anything). */
export function exitWithUsage(cli: Pick<Cli<CliOptions>, 'name' | 'usage' | 'usageExitCode'>, message: string): never {
  process.stderr.write(`${cli.name}: ${message}\nusage: ${cli.usage}\n`);
  // Writes to pipes and files are synchronous on Linux and macOS: nothing is lost by exiting now.
  process.exit(cli.usageExitCode ?? 2);
}

/**
 * A reader that stops early (`npm run -s erase -- ... | head`) closes the pipe: Node then emits EPIPE on stdout, and
 * unheard it ends the process with a stack trace, possibly halfway through its work (an erasure, a rebuild). Heard
 * here, the output stops and the work goes on to its end and its exit code.
 */
function finishWhenTheReaderLeaves(): void {
  if (process.stdout.listeners('error').includes(ignoreClosedPipe)) return;
  process.stdout.on('error', ignoreClosedPipe);
}
function ignoreClosedPipe(error: NodeJS.ErrnoException): void {
  if (error.code !== 'EPIPE') throw error;
}

/**
 * The parsed command line of a CLI, or the process ends: after printing the usage (`--help`, exit 0) or a usage
 * error (exit 2). `check` may validate the values further by throwing a UsageError. Every CLI starts here, so here
 * too its output learns to stop quietly when its reader leaves (finishWhenTheReaderLeaves).
 */
export function parseCli<const O extends CliOptions, R = ReturnType<typeof parseCliArgs<O>>>(
  cli: Cli<O>,
  argv: readonly string[] = process.argv.slice(2),
  check: (parsed: ReturnType<typeof parseCliArgs<O>>) => R = (parsed) => parsed as R,
): R {
  finishWhenTheReaderLeaves();
  let parsed: ReturnType<typeof parseCliArgs<O>>;
  try {
    parsed = parseCliArgs(argv, { ...cli.options, ...HELP } as O, { allowPositionals: cli.allowPositionals });
  } catch (error) {
    if (error instanceof UsageError) exitWithUsage(cli, error.message);
    throw error;
  }
  const takenByNpm = optionsTakenByNpm(cli.options, process.env, parsed.values);
  if (takenByNpm.length) {
    const flags = takenByNpm.map((name) => `--${name}`).join(' ');
    exitWithUsage(
      cli,
      `npm took ${flags} as its own option, so this tool did not get it: put -- before the tool's options (npm run ${process.env.npm_lifecycle_event} -- ${flags} ...)`,
    );
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(`usage: ${cli.usage}\n`);
    process.exit(0);
  }
  try {
    return check(parsed);
  } catch (error) {
    if (error instanceof UsageError) exitWithUsage(cli, error.message);
    throw error;
  }
}

/**
 * `--from` and `--to` of any tool, by parsePeriodBound's rules (a date is its whole UTC day; a time names its zone),
 * each undefined when not given; one given empty (`--from "$START"` with the variable unset) is an error, not the
 * tool's default; `--from` must be before `--to` when both are given.
 */
export function periodOptions(values: { from?: string; to?: string }): { from?: Date; to?: Date } {
  const bound = (flag: '--from' | '--to', text: string | undefined) => {
    if (text === undefined) return undefined;
    const parsed = parsePeriodBound(text, flag === '--to' ? 'end' : 'start');
    if (!parsed.ok) throw new UsageError(`${flag} ${JSON.stringify(text.slice(0, 40))} ${parsed.reason}`);
    return parsed.time;
  };
  const from = bound('--from', values.from);
  const to = bound('--to', values.to);
  checkPeriodOrder(from, to);
  return { from, to };
}

/** A period must not be empty or reversed. */
export function checkPeriodOrder(from: Date | undefined, to: Date | undefined): void {
  if (from && to && from >= to) throw new UsageError('--from must be before --to');
}
