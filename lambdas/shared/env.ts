import type * as z from 'zod';

/**
 * Every environment variable the Lambda code reads, parsed once. A missing or malformed one fails the cold start
 * with a message naming the key, instead of `undefined` surfacing later. The schemas live with the key names in
 * lambdas/domain/function-environment.ts, where the constructs in lib/ read them too.
 */
export { IngestEnv, ProcessorEnv, RelayEnv, SweeperEnv } from '../domain/function-environment';

/** Parses `env` with `schema`; the error names each bad key but never echoes a value (it may be a secret). */
export function readEnv<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv = process.env): z.infer<T> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`).join('; ');
    throw new Error(`invalid environment: ${problems}`);
  }
  return result.data;
}
