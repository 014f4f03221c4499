import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import type { StatusUpdate } from '../domain/status-update';
import type { AppliedChange, StatusStore } from './status-store';

export interface SupabaseStoreOptions {
  url: string;
  serviceRoleKey: string;
  /** For tests: a fetch that PostgREST requests go through. @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** A PostgREST error as supabase-js returns it, kept whole so the logs can say what the database said. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** The production store: Supabase's REST API (PostgREST) calling `apply_status_updates` with `rpc`. */
export class SupabaseStatusStore implements StatusStore {
  private readonly client: SupabaseClient;

  constructor(options: SupabaseStoreOptions) {
    this.client = createClient(options.url, options.serviceRoleKey, {
      auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
      // Node 20 has no global WebSocket and supabase-js refuses to start without one; realtime is never used.
      realtime: { transport: WebSocket as never },
      global: options.fetch ? { fetch: options.fetch } : {},
    });
  }

  async applyStatusUpdates(updates: readonly StatusUpdate[]): Promise<AppliedChange[]> {
    if (updates.length === 0) return [];
    const { data, error } = await this.client.rpc('apply_status_updates', { updates });
    if (error) throw new StoreError(`apply_status_updates failed: ${error.message}`, error.code);
    return (data ?? []) as AppliedChange[];
  }

  /** Nothing to release: requests are plain HTTP and no realtime channel is ever opened. */
  async close(): Promise<void> {}
}
