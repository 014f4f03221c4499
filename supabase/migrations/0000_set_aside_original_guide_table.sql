-- Adopting the original guide's table, step 1 of 2 (step 2: 0010_import_original_guide_rows.sql).
--
-- Whoever followed the original guide has `broadcasts_messages (id bigserial, message_id text unique not null,
-- phone_number text, status jsonb, created_at, updated_at)`, often with columns of their own, and rows in it. Its
-- `status` is a plain column, ours is generated from the reported times, and PostgreSQL cannot turn one into the
-- other in place. So this step sets the guide's table aside under another name, with its indexes, constraints and
-- sequence renamed so 0001 creates the tracker's table under the usual names; 0010, after every other migration,
-- moves each row across with its id, created_at, updated_at and every column of the user's own, fills the reported
-- times from the guide's `status` JSONB, and drops the set-aside table.
--
-- A table that already has the tracker's shape (`reported_sent_at` exists) is left alone, so this file is a no-op on
-- new databases and on databases migrated before it existed. Each migration runs in one transaction: an adoption
-- that fails leaves the guide's table exactly as it was.

do $$
declare
  item record;
begin
  if to_regclass('public.broadcasts_messages') is null
     or exists (select 1 from information_schema.columns
                 where table_schema = 'public' and table_name = 'broadcasts_messages' and column_name = 'reported_sent_at') then
    return;
  end if;
  if to_regclass('public.broadcasts_messages_before_adoption') is not null then
    raise exception 'public.broadcasts_messages_before_adoption already exists: an earlier adoption did not finish; see docs/adoption.md';
  end if;

  -- Indexes (the unique constraint's included), then sequences owned by the table, then the table itself.
  for item in
    select c.relname from pg_index i join pg_class c on c.oid = i.indexrelid
     where i.indrelid = 'public.broadcasts_messages'::regclass
  loop
    execute format('alter index public.%I rename to %I', item.relname, left(item.relname, 40) || '_before_adoption');
  end loop;
  for item in
    select s.relname from pg_depend d join pg_class s on s.oid = d.objid
     where d.refobjid = 'public.broadcasts_messages'::regclass and s.relkind = 'S' and d.deptype in ('a', 'i')
  loop
    execute format('alter sequence public.%I rename to %I', item.relname, left(item.relname, 40) || '_before_adoption');
  end loop;
  alter table public.broadcasts_messages rename to broadcasts_messages_before_adoption;
  raise notice 'the original guide''s broadcasts_messages is set aside as broadcasts_messages_before_adoption; 0010 imports its rows';
end;
$$;
