-- Takes back what Supabase's default privileges and PostgreSQL's defaults gave away in 0001.
-- Supabase grants every new function, table and sequence in schema public to anon and authenticated, and
-- PostgreSQL lets PUBLIC execute every new function. 0002-0004 revoke their own functions, the table and the views,
-- but 0001's helper functions and the table's identity sequence kept those grants: anyone holding the public key
-- could call the helpers and draw ids from the sequence. Only the service role needs the helpers (the generated
-- columns and apply_status_updates call them, as the caller); nothing but the table's own inserts needs the
-- sequence (an identity column needs no grant on it). Re-runnable.
do $$
declare
  fn text;
begin
  foreach fn in array array[
    'wa_iso8601(timestamptz)',
    'broadcasts_status_json(timestamptz, timestamptz, timestamptz, timestamptz, timestamptz)',
    'broadcasts_inferred_stages(timestamptz, timestamptz, timestamptz, timestamptz)',
    'broadcasts_current_status(timestamptz, timestamptz, timestamptz, timestamptz, timestamptz)',
    'broadcasts_earliest_failure(timestamptz, jsonb, timestamptz, jsonb)']
  loop
    execute format('revoke execute on function public.%s from public', fn);
    if exists (select 1 from pg_roles where rolname = 'anon') then
      execute format('revoke execute on function public.%s from anon', fn);
    end if;
    if exists (select 1 from pg_roles where rolname = 'authenticated') then
      execute format('revoke execute on function public.%s from authenticated', fn);
    end if;
    if exists (select 1 from pg_roles where rolname = 'service_role') then
      execute format('grant execute on function public.%s to service_role', fn);
    end if;
  end loop;

  execute format('revoke all on sequence %s from public', pg_get_serial_sequence('public.broadcasts_messages', 'id'));
  if exists (select 1 from pg_roles where rolname = 'anon') then
    execute format('revoke all on sequence %s from anon', pg_get_serial_sequence('public.broadcasts_messages', 'id'));
  end if;
  if exists (select 1 from pg_roles where rolname = 'authenticated') then
    execute format('revoke all on sequence %s from authenticated', pg_get_serial_sequence('public.broadcasts_messages', 'id'));
  end if;
end;
$$;
