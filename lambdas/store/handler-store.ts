import { readJsonSecret, SupabaseSecret } from '../shared/secrets';
import { SupabaseTrackerStore } from './supabase-tracker-store';

/** Where the Supabase credentials come from: a Secrets Manager id (deployed), or the values themselves (elsewhere). */
export type SupabaseCredentialsSource = { SUPABASE_SECRET_ID: string } | SupabaseSecret;

/**
 * The Supabase store a handler shares across invocations, created on first use (no secret read or client before a
 * batch needs it). A failed secret read is not cached: the next invocation tries again.
 */
export function lazySupabaseStore(source: SupabaseCredentialsSource): () => Promise<SupabaseTrackerStore> {
  let store: Promise<SupabaseTrackerStore> | undefined;
  const create = async () => {
    const credentials =
      'SUPABASE_SECRET_ID' in source ? await readJsonSecret(SupabaseSecret, source.SUPABASE_SECRET_ID) : source;
    return new SupabaseTrackerStore({
      url: credentials.SUPABASE_URL,
      serviceRoleKey: credentials.SUPABASE_SERVICE_ROLE_KEY,
    });
  };
  return () => {
    store ??= create().catch((error: unknown) => {
      store = undefined;
      throw error;
    });
    return store;
  };
}
