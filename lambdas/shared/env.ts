import { z } from 'zod';

/**
 * Every environment variable the Lambda code reads, parsed once. A missing or malformed one fails the cold start
 * with a message naming the key, instead of `undefined` surfacing later.
 */
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const IngestEnv = z.object({
  QUEUE_URL: z.url(),
  /** Bodies above this are refused with 413. AiSensy's and Meta's batches stay well below 1 MiB. */
  MAX_BODY_BYTES: positiveInt(1_048_576),
  /** Statuses packed into one queue message: the unit of retry. */
  MAX_STATUSES_PER_MESSAGE: positiveInt(100),
  /** The queue's maximum message size, which also bounds one SendMessageBatch request. */
  QUEUE_MAX_MESSAGE_BYTES: positiveInt(262_144),
});
export type IngestEnv = z.infer<typeof IngestEnv>;

export const ProcessorEnv = z.object({
  SUPABASE_URL: z.url(),
  SUPABASE_SERVICE_ROLE_KEY: z.string().min(1),
});
export type ProcessorEnv = z.infer<typeof ProcessorEnv>;

/** Parses `env` with `schema`; the error names each bad key but never echoes a value (it may be a secret). */
export function readEnv<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv = process.env): z.infer<T> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid environment: ${problems}`);
  }
  return result.data;
}
