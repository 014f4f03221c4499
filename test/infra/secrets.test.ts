import { secretIdKind } from '../../lib/secret-reference';
import { type Statement, statementsOf, synthStack } from '../support/cdk';

/**
 * Which secrets the functions may read, decided the way IAM decides: the synthesized policy's resources matched
 * (with `*` and `?` wildcards) against the real ARN of the secret, which always ends in `-` and 6 random characters.
 */
const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const arnOf = (nameWithSuffix: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${nameWithSuffix}`;

/** Resolves the pseudo parameters CDK leaves in ARNs (this test stack has a fixed account and region). */
function resolve(value: unknown): string {
  if (typeof value === 'string') return value;
  const object = value as { Ref?: string; 'Fn::Join'?: [string, unknown[]] };
  if (object.Ref === 'AWS::Partition') return 'aws';
  if (object.Ref === 'AWS::Region') return REGION;
  if (object.Ref === 'AWS::AccountId') return ACCOUNT;
  if (object['Fn::Join']) return object['Fn::Join'][1].map(resolve).join(object['Fn::Join'][0]);
  throw new Error(`cannot resolve ${JSON.stringify(value)}`);
}

const resourcesOf = (statement: Statement) => [statement.Resource].flat().map(resolve);
const iamMatches = (pattern: string, arn: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\/]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  ).test(arn);

/** The resources a role may call GetSecretValue on, and whether it may read the secret with ARN `arn`. */
function secretAccess(context: Record<string, unknown>, rolePrefix: string) {
  const { template } = synthStack(context);
  const statements = statementsOf(template, rolePrefix);
  const reads = statements.filter((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'));
  const resources = reads.flatMap(resourcesOf);
  return {
    template,
    statements,
    resources,
    canRead: (arn: string) => resources.some((pattern) => iamMatches(pattern, arn)),
  };
}

const environmentOf = (template: ReturnType<typeof synthStack>['template'], variable: string): unknown[] =>
  Object.values(template.findResources('AWS::Lambda::Function'))
    .map((fn) => fn.Properties.Environment?.Variables?.[variable])
    .filter((v) => v !== undefined);

describe('secret ids: a name, a partial ARN or a complete ARN', () => {
  it.each([
    ['prod/supabase', 'name'],
    ['prod/supabase-secret', 'name'],
    [arnOf('prod/supabase'), 'partial-arn'],
    [arnOf('prod/supabase-AbC123'), 'suffixed-arn'],
    [arnOf('prod/supabase-secret'), 'suffixed-arn'],
  ])('reads %s as a %s', (id, kind) => {
    expect(secretIdKind(id)).toBe(kind);
  });

  it.each([
    ['a plain name', 'prod/supabase'],
    ['a name ending in "-secret"', 'prod/supabase-secret'],
    ['a name ending in a hyphen and 6 characters', 'prod/app-AbC123'],
  ])('grants reads of %s with the -?????? suffix and hands the functions the name itself', (_what, name) => {
    const processor = secretAccess({ supabaseSecret: name }, 'ProcessorFunctionServiceRole');
    expect(processor.resources).toEqual([`${arnOf(name)}-??????`]);
    expect(processor.canRead(arnOf(`${name}-Xy9Zw1`))).toBe(true);
    expect(processor.canRead(arnOf(`${name}x-Xy9Zw1`))).toBe(false);
    // Secrets Manager finds a secret by name without ambiguity; a partial ARN of such a name would be taken for complete.
    // The three functions that reach the database: the processor, the sweeper and the status-event relay.
    expect(environmentOf(processor.template, 'SUPABASE_SECRET_ID')).toEqual([name, name, name]);
  });

  it('grants reads of a partial ARN with the -?????? suffix and hands the functions the partial ARN', () => {
    const arn = arnOf('prod/supabase');
    const processor = secretAccess({ supabaseSecret: arn }, 'ProcessorFunctionServiceRole');
    expect(processor.resources).toEqual([`${arn}-??????`]);
    expect(processor.canRead(arnOf('prod/supabase-Xy9Zw1'))).toBe(true);
    expect(environmentOf(processor.template, 'SUPABASE_SECRET_ID')).toEqual([arn, arn, arn]);
  });

  it.each([
    ['a complete ARN', 'prod/supabase-AbC123', 'prod/supabase-AbC123'],
    ['the partial ARN of a name ending in "-secret"', 'prod/supabase-secret', 'prod/supabase-secret-Xy9Zw1'],
  ])('grants reads of an ARN ending in a hyphen and 6 characters both ways: %s', (_what, given, realSecret) => {
    const processor = secretAccess({ supabaseSecret: arnOf(given) }, 'ProcessorFunctionServiceRole');
    expect(processor.resources.sort()).toEqual([arnOf(given), `${arnOf(given)}-??????`]);
    expect(processor.canRead(arnOf(realSecret))).toBe(true);
    expect(processor.canRead(arnOf('prod/other-AbC123'))).toBe(false);
  });

  it('applies the same rules to the webhook secret, read by the ingest function only', () => {
    const ingest = secretAccess({ webhookSecret: 'hooks/webhook-secret' }, 'IngestFunctionServiceRole');
    expect(ingest.resources).toEqual([`${arnOf('hooks/webhook-secret')}-??????`]);
    expect(environmentOf(ingest.template, 'WEBHOOK_SECRET_ID')).toEqual(['hooks/webhook-secret']);
    const processor = secretAccess({ webhookSecret: 'hooks/webhook-secret' }, 'ProcessorFunctionServiceRole');
    expect(processor.canRead(arnOf('hooks/webhook-secret-Xy9Zw1'))).toBe(false);
  });

  it.each([
    [
      'an ARN of another service',
      'arn:aws:s3:::bucket/prod-supabase',
      /supabaseSecret: .* is not a Secrets Manager secret ARN/,
    ],
    ['a name with a space', 'prod supabase', /supabaseSecret: .* is not a Secrets Manager secret name/],
  ])('refuses %s, naming the key', (_what, id, message) => {
    expect(() => synthStack({ supabaseSecret: id })).toThrow(message);
  });
});

describe('secrets encrypted with a customer-managed KMS key (secretsKmsKeyArn)', () => {
  const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
  const decryptStatements = (statements: Statement[]) =>
    statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('kms:')));

  it.each([['IngestFunctionServiceRole'], ['ProcessorFunctionServiceRole'], ['SweeperFunctionServiceRole']])(
    'lets %s decrypt with the key only through Secrets Manager in the stack region',
    (role) => {
      const { statements } = secretAccess({ secretsKmsKeyArn: KEY }, role);
      expect(decryptStatements(statements)).toEqual([
        expect.objectContaining({
          Action: 'kms:Decrypt',
          Effect: 'Allow',
          Resource: KEY,
          Condition: { StringEquals: { 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com` } },
        }),
      ]);
    },
  );

  it('grants no KMS action when the secrets use the AWS-managed key', () => {
    for (const role of ['IngestFunctionServiceRole', 'ProcessorFunctionServiceRole', 'SweeperFunctionServiceRole']) {
      expect(decryptStatements(secretAccess({}, role).statements)).toEqual([]);
    }
  });

  it('refuses a key alias or anything but a key ARN, naming the key', () => {
    expect(() => synthStack({ secretsKmsKeyArn: `arn:aws:kms:${REGION}:${ACCOUNT}:alias/secrets` })).toThrow(
      /secretsKmsKeyArn/,
    );
  });
});
