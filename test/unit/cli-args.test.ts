import { parseCliArgs, UsageError } from '../../lambdas/shared/cli';

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
  ])('refuses %p: %s', (argv, message) => {
    expect(() => parseCliArgs(argv, options)).toThrow(new UsageError(message));
  });
  it('takes positionals only when allowed', () => {
    expect(parseCliArgs(['stop', 'dir'], {}, { allowPositionals: true }).positionals).toEqual(['stop', 'dir']);
  });
});
