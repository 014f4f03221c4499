import { Arn, ArnFormat, Stack } from 'aws-cdk-lib';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';

/** Secrets Manager ends every secret's ARN with a hyphen and 6 random characters. */
const SUFFIX = /-[A-Za-z0-9]{6}$/;

/**
 * How an id given for an existing secret is read:
 * - `name`: `prod/supabase`. The functions look the secret up by name, which is never ambiguous.
 * - `partial-arn`: an ARN without the random suffix, `arn:...:secret:prod/supabase`.
 * - `suffixed-arn`: an ARN ending in a hyphen and 6 characters. Either a complete ARN or the partial ARN of a name
 *   that ends so (`prod/supabase-secret`); nothing in the string tells which. Secrets Manager itself reads it as
 *   complete, so a partial ARN of such a name cannot be looked up: give that secret by name or complete ARN.
 */
export type SecretIdKind = 'name' | 'partial-arn' | 'suffixed-arn';

export function secretIdKind(secretId: string): SecretIdKind {
  if (!secretId.startsWith('arn:')) return 'name';
  return SUFFIX.test(secretId) ? 'suffixed-arn' : 'partial-arn';
}

export interface ImportSecretOptions {
  /** The config key the id came from, for error messages. */
  readonly configKey: string;
  /**
   * The customer-managed KMS key the secret is encrypted with. Readers are granted `kms:Decrypt` on it, only
   * through Secrets Manager (`kms:ViaService`).
   * @default the AWS-managed key `aws/secretsmanager`, which needs no grant
   */
  readonly encryptionKey?: IKey;
}

/**
 * An existing secret, given by name, partial ARN or complete ARN; the stack never creates or holds secret values.
 *
 * `grantRead` covers every secret the id can denote: `<name>-??????` for a name or a partial ARN (the ARN of the
 * real secret carries the suffix), and for an ARN ending in a hyphen and 6 characters both the ARN itself and
 * `<ARN>-??????`, since it may be either. With `encryptionKey`, readers may decrypt with it through Secrets Manager.
 *
 * `secretArn`, which the constructs hand to their functions as the `SecretId`, is the name when a name was given:
 * a partial ARN built from a name ending in a hyphen and 6 characters would be read as complete, and not found.
 */
export function importSecret(scope: Construct, id: string, secretId: string, options: ImportSecretOptions): ISecret {
  const { encryptionKey, configKey } = options;
  const kind = secretIdKind(secretId);
  let secret: ISecret;
  let alsoGrant: ISecret | undefined;
  if (kind === 'name') {
    if (!/^[A-Za-z0-9/_+=.@-]{1,512}$/.test(secretId)) {
      throw new Error(
        `${configKey}: "${secretId}" is not a Secrets Manager secret name (letters, digits and /_+=.@- only)`,
      );
    }
    const partialArn = Stack.of(scope).formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: secretId,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    secret = Secret.fromSecretAttributes(scope, id, { secretPartialArn: partialArn });
  } else {
    const parts = Arn.split(secretId, ArnFormat.COLON_RESOURCE_NAME);
    if (parts.service !== 'secretsmanager' || parts.resource !== 'secret' || !parts.resourceName) {
      throw new Error(
        `${configKey}: "${secretId}" is not a Secrets Manager secret ARN (arn:<partition>:secretsmanager:<region>:<account>:secret:<name>)`,
      );
    }
    if (kind === 'partial-arn') {
      secret = Secret.fromSecretAttributes(scope, id, { secretPartialArn: secretId });
    } else {
      secret = Secret.fromSecretAttributes(scope, id, { secretCompleteArn: secretId });
      // The other reading, for the grant only.
      alsoGrant = Secret.fromSecretAttributes(scope, `${id}AsPartialArn`, { secretPartialArn: secretId });
    }
  }

  return override(secret, {
    secretArn: kind === 'name' ? secretId : secret.secretArn,
    encryptionKey,
    grantRead: (grantee: IGrantable, versionStages?: string[]) => {
      alsoGrant?.grantRead(grantee, versionStages);
      // Not encryptionKey.grantDecrypt(new ViaServicePrincipal(...)), which is what Secret.grantRead does: for an
      // imported key that adds nothing to the grantee's policy, silently.
      if (encryptionKey) {
        Grant.addToPrincipal({
          grantee,
          actions: ['kms:Decrypt'],
          resourceArns: [encryptionKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(scope).region}.amazonaws.com` } },
        });
      }
      return secret.grantRead(grantee, versionStages);
    },
  });
}

/** `secret` with some members replaced; everything else is the secret's own (methods bound to it). */
function override(secret: ISecret, members: Pick<ISecret, 'secretArn' | 'encryptionKey' | 'grantRead'>): ISecret {
  return new Proxy(secret, {
    get(target, property) {
      if (Object.hasOwn(members, property)) return members[property as keyof typeof members];
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
