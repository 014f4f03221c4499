import { getSecret, type SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import * as z from 'zod';
import type { WebhookCredentials } from '../domain/webhook-auth';
import { SecretConfigurationError } from './errors';

/** Secret values are cached for this long (Powertools Parameters), so a rotation is picked up within minutes. */
const SECRET_CACHE_SECONDS = 300;

/** The Supabase secret: `{"SUPABASE_URL": "...", "SUPABASE_SERVICE_ROLE_KEY": "..."}`. */
export const SupabaseSecret = z.object({
  SUPABASE_URL: z.url(),
  SUPABASE_SERVICE_ROLE_KEY: z.string().min(1),
});
export type SupabaseSecret = z.infer<typeof SupabaseSecret>;

/**
 * A credential key is either absent or a non-blank string. A blank or non-string value is a configuration error,
 * never "no credential": dropping it silently turned authentication off (issue 11, item 11), so the whole secret
 * is refused, naming the key, and the ingest answers 503 until it is fixed.
 */
const credential = z
  .string({ error: 'must be a string (remove the key to turn this method off)' })
  .trim()
  .min(1, 'is blank (give it a value, or remove the key to turn this method off)')
  .optional();

/** The webhook secret; every key is optional, `*_PREVIOUS` keeps the old value valid during a rotation. */
export const WebhookSecret = z.object({
  META_APP_SECRET: credential,
  META_APP_SECRET_PREVIOUS: credential,
  AISENSY_WEBHOOK_SECRET: credential,
  AISENSY_WEBHOOK_SECRET_PREVIOUS: credential,
  WEBHOOK_SHARED_TOKEN: credential,
  WEBHOOK_SHARED_TOKEN_PREVIOUS: credential,
  WEBHOOK_VERIFY_TOKEN: credential,
});
export type WebhookSecret = z.infer<typeof WebhookSecret>;

export function toWebhookCredentials(values: WebhookSecret): WebhookCredentials {
  const pair = (a?: string, b?: string) => [a, b].filter((v): v is string => Boolean(v));
  return {
    metaAppSecrets: pair(values.META_APP_SECRET, values.META_APP_SECRET_PREVIOUS),
    aisensySecrets: pair(values.AISENSY_WEBHOOK_SECRET, values.AISENSY_WEBHOOK_SECRET_PREVIOUS),
    sharedTokens: pair(values.WEBHOOK_SHARED_TOKEN, values.WEBHOOK_SHARED_TOKEN_PREVIOUS),
    verifyToken: values.WEBHOOK_VERIFY_TOKEN,
  };
}

/** The keys at fault and why, for a message: `META_APP_SECRET: is blank (...)`. Never a value. */
export function secretProblems(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

/**
 * Reads a JSON secret from Secrets Manager through Powertools Parameters (cached) and validates it. The error
 * names the secret and the bad keys, never a value. `provider` lets a caller bring its own SDK client (the ingest
 * gives it timeouts: lambdas/domain/ingest-budget.ts); @default Powertools' shared provider.
 */
export async function readJsonSecret<T extends z.ZodType>(
  schema: T,
  secretId: string,
  provider?: SecretsProvider,
): Promise<z.infer<T>> {
  const options = { transform: 'json', maxAge: SECRET_CACHE_SECONDS } as const;
  const value = provider ? await provider.get(secretId, options) : await getSecret(secretId, options);
  const result = schema.safeParse(value);
  if (!result.success)
    throw new SecretConfigurationError(`secret ${secretId} is malformed: ${secretProblems(result.error)}`);
  return result.data;
}
