import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import * as z from 'zod';
import type { WebhookCredentials } from '../domain/webhook-auth';

/** Secret values are cached for this long (Powertools Parameters), so a rotation is picked up within minutes. */
const SECRET_CACHE_SECONDS = 300;

/** The Supabase secret: `{"SUPABASE_URL": "...", "SUPABASE_SERVICE_ROLE_KEY": "..."}`. */
export const SupabaseSecret = z.object({
  SUPABASE_URL: z.url(),
  SUPABASE_SERVICE_ROLE_KEY: z.string().min(1),
});
export type SupabaseSecret = z.infer<typeof SupabaseSecret>;

const optional = z.string().trim().min(1).optional().catch(undefined);

/** The webhook secret; every key is optional, `*_PREVIOUS` keeps the old value valid during a rotation. */
export const WebhookSecret = z.object({
  META_APP_SECRET: optional,
  META_APP_SECRET_PREVIOUS: optional,
  AISENSY_WEBHOOK_SECRET: optional,
  AISENSY_WEBHOOK_SECRET_PREVIOUS: optional,
  WEBHOOK_SHARED_TOKEN: optional,
  WEBHOOK_SHARED_TOKEN_PREVIOUS: optional,
  WEBHOOK_VERIFY_TOKEN: optional,
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

/**
 * Reads a JSON secret from Secrets Manager through Powertools Parameters (cached) and validates it. The error
 * names the secret and the bad keys, never a value.
 */
export async function readJsonSecret<T extends z.ZodType>(schema: T, secretId: string): Promise<z.infer<T>> {
  const value = await getSecret(secretId, { transform: 'json', maxAge: SECRET_CACHE_SECONDS });
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new Error(`secret ${secretId} is malformed: ${result.error.issues.map((i) => i.path.join('.') || '(root)').join(', ')}`);
  }
  return result.data;
}
