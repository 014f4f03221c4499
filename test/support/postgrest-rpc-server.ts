import { createServer, type Server } from 'node:http';
import { Client } from 'pg';
import type { SqlExecutor } from '../../lambdas/store/sql-executor';
import { listen, readBody, replyJson } from '../../local/loopback-http';

/**
 * A loopback HTTP server that serves PostgREST's RPC contract (`POST /rest/v1/rpc/<function>` with the named
 * arguments as a JSON object; a set-returning function answers a JSON array; errors as {code, message, details,
 * hint} with PostgREST's status mapping) over a real database. No PostgREST build is available here, so this is
 * the contract the supabase-js store is tested against: the real client, real HTTP, the real SQL function.
 */
export interface PostgrestRpcServer {
  url: string;
  requests: { path: string; apikey?: string; authorization?: string }[];
  close(): Promise<void>;
}

/** PostgREST's mapping for the SQLSTATE classes the function can raise. */
function httpStatusFor(code: string | undefined): number {
  if (!code) return 500;
  if (code === '42883') return 404;
  if (code.startsWith('22') || code.startsWith('23')) return 400;
  if (code === '42501') return 403;
  return 500;
}

/**
 * PostgREST runs every call under the role's statement_timeout (Supabase: 8 s). Here a test gives one to the functions
 * it names, on a connection of their own to `url` (real PostgreSQL), so that a real cancellation (57014) comes back.
 */
export interface RpcStatementTimeouts {
  url: string;
  milliseconds: Record<string, number>;
}

export async function startPostgrestRpcServer(
  executor: SqlExecutor,
  serviceRoleKey: string,
  timeouts?: RpcStatementTimeouts,
): Promise<PostgrestRpcServer> {
  const requests: PostgrestRpcServer['requests'] = [];
  const server: Server = createServer(async (req, res) => {
    const reply = (status: number, body: unknown) => replyJson(res, status, body, 'application/json; charset=utf-8');
    const url = new URL(req.url ?? '/', 'http://localhost');
    requests.push({
      path: url.pathname,
      apikey: req.headers.apikey as string,
      authorization: req.headers.authorization,
    });
    const match = /^\/rest\/v1\/rpc\/([a-z_][a-z0-9_]*)$/.exec(url.pathname);
    if (req.method !== 'POST' || !match)
      return reply(404, { code: 'PGRST202', message: 'not found', details: null, hint: null });
    if (req.headers.apikey !== serviceRoleKey || req.headers.authorization !== `Bearer ${serviceRoleKey}`) {
      return reply(401, { code: 'PGRST301', message: 'JWT invalid', details: null, hint: null });
    }
    const body = await readBody(req);
    let args: Record<string, unknown>;
    try {
      args = JSON.parse(body || '{}');
    } catch {
      return reply(400, { code: 'PGRST102', message: 'Empty or invalid json', details: null, hint: null });
    }
    const names = Object.keys(args);
    if (names.some((n) => !/^[a-z_][a-z0-9_]*$/.test(n)))
      return reply(400, { code: 'PGRST102', message: 'bad argument name' });
    // PostgREST passes named arguments typed by the function's signature: here untyped parameters, which
    // Postgres resolves against the signature the same way (JSON for objects and arrays of objects, an array
    // literal for arrays of numbers, text for the rest).
    // `?limit=N` keeps the first N rows, as PostgREST does for a set-returning function (supabase-js `.limit()`).
    const limit = url.searchParams.get('limit');
    if (limit !== null && !/^\d+$/.test(limit))
      return reply(400, { code: 'PGRST100', message: `"failed to parse limit (${limit})"`, details: null, hint: null });
    const call = `select * from public.${match[1]}(${names.map((n, i) => `${n} => $${i + 1}`).join(', ')})${
      limit === null ? '' : ` limit ${limit}`
    }`;
    // An array of numbers is a SQL array argument here (resend_list's no_resend_codes integer[]): PostgREST converts a
    // JSON array to the parameter's array type. Arrays of objects are the JSON of a jsonb parameter (apply_status_updates).
    const values = names.map((n) => {
      const value = args[n];
      if (Array.isArray(value) && value.every((v) => typeof v === 'number')) return `{${value.join(',')}}`;
      // An array of strings: a text[] parameter (delivery_health_by_sender's senders), quoted as an array literal.
      if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string'))
        return `{${value.map((v) => `"${v.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
      return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
    });
    try {
      const timeout = timeouts?.milliseconds[match[1]!];
      const { rows } =
        timeout === undefined
          ? await executor.query(call, values)
          : await queryWithTimeout(timeouts!.url, timeout, call, values);
      // A function returning one value of a base type (delete_expired_messages' count) answers that value alone.
      const { rows: kind } = await executor.query<{ proretset: boolean; typtype: string }>(
        `select p.proretset, t.typtype from pg_proc p join pg_type t on t.oid = p.prorettype
          where p.proname = $1 and p.pronamespace = 'public'::regnamespace limit 1`,
        [match[1]],
      );
      if (kind[0] && !kind[0].proretset && kind[0].typtype === 'b')
        return reply(200, Object.values(rows[0] ?? {})[0] ?? null);
      return reply(200, rows);
    } catch (error) {
      const e = error as { code?: string; message: string; detail?: string; hint?: string };
      return reply(httpStatusFor(e.code), {
        code: e.code ?? 'PGRST000',
        message: e.message,
        details: e.detail ?? null,
        hint: e.hint ?? null,
      });
    }
  });
  const { url, close } = await listen(server);
  return { url, requests, close: () => close() };
}

async function queryWithTimeout(url: string, milliseconds: number, sql: string, values: unknown[]) {
  const client = new Client({ connectionString: url, statement_timeout: milliseconds });
  await client.connect();
  try {
    return await client.query<Record<string, unknown>>(sql, values);
  } finally {
    await client.end();
  }
}
