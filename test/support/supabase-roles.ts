import type { SqlExecutor } from '../../lambdas/store/sql-executor';

/** The database roles Supabase's API runs requests as: the public key, a signed-in user, the service key. */
export const SUPABASE_API_ROLES = ['anon', 'authenticated', 'service_role'] as const;
export type SupabaseApiRole = (typeof SUPABASE_API_ROLES)[number];

/**
 * Makes a database look like a Supabase project's before the migrations run: the three API roles exist
 * (service_role bypasses row level security, as on Supabase), may use schema `public`, and, through default
 * privileges, receive every table, function and sequence created there afterwards: what a migration must take
 * back explicitly. Roles belong to the whole server, so their creation tolerates another suite doing it at the
 * same moment.
 */
export async function prepareSupabaseRoles(executor: SqlExecutor): Promise<void> {
  await executor.exec(`
    do $$
    declare
      role_name text;
    begin
      foreach role_name in array array['anon', 'authenticated', 'service_role'] loop
        if not exists (select 1 from pg_roles where rolname = role_name) then
          begin
            execute format('create role %I nologin noinherit%s', role_name,
                           case when role_name = 'service_role' then ' bypassrls' else '' end);
          exception when duplicate_object or unique_violation then
            null; -- created meanwhile by a suite running in parallel
          end;
        end if;
      end loop;
    end;
    $$;
    grant usage on schema public to anon, authenticated, service_role;
    alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
    alter default privileges in schema public grant all on functions to anon, authenticated, service_role;
    alter default privileges in schema public grant all on sequences to anon, authenticated, service_role;
  `);
}
