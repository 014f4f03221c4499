-- A message that retention deleted or erasure anonymised stays forgotten: a later status for it is not stored as a new
-- message, and rebuilding the rollups never wipes the figures retention kept (issue 15; found by a probe of
-- retention and erasure against the rollups, test/integration/forgotten-messages.test.ts).
--
-- What went wrong before:
--   * A status arriving after retention deleted its message (a read 40 days after the send; Meta's expiry `failed`
--     at 30 days) inserted a new row: sent, delivered and read all at that status's time. The rollups, which keep the
--     deleted message's figures, then counted a second message on another day.
--   * Statuses applied again after retention (`npm run replay` of an old day, a dead-letter redrive, a provider's
--     retry) inserted the message again, and the rollups counted it twice for good; retention deleted the new row, not
--     the count.
--   * A status for an erased message (erasure renames message_id to `erased:<id>`) inserted a new row with the
--     phone number that was erased.
--   * `npm run rollups:rebuild` over a period retention had emptied recomputed it from no rows: every figure of the
--     period was gone, silently.
--   * An erasure locked a person's rows in heap order and a writer in message id order: now and then a deadlock
--     (40P01), which SQS retried.
--
-- Now:
--   * broadcasts_retention_state.deleted_before: the latest cutoff delete_expired_messages was called with.
--     apply_status_updates drops every status timed before it: its message is gone or about to go, and its period's
--     figures are final.
--   * broadcasts_erased_messages: a 64-bit hash of each message id erasure anonymised, kept for good.
--   * broadcasts_expired_messages: the same hash of each message retention deleted that can still be heard of after
--     the cutoff: one not read and not failed for 60 days after the delete; one whose read or failure came after the
--     cutoff until the cutoff passes it (a replay or redrive of that later day would bring it back otherwise).
--   * apply_status_updates checks the messages its merge inserted: one erased, or one remembered as deleted whose
--     batch has no `sent` for it (a new message's statuses begin with its `sent`; a late read, delivery or expiry
--     failure does not), is left out, and the merge undone and done again without it (the path 0031 takes when
--     another writer changed a row). That path's first step, which inserts the new messages after the first try's locks were let
--     go, checks what it inserted too (an erasure or a delete may have come in between). Only inserted messages are
--     looked up: a message in the table under its id was neither erased (erasure renames the rows) nor deleted.
--     Looking up every message of a batch before the merge instead cost 3.4-5.7 ms a batch of 1,000 (a probe each)
--     and 4.9 ms (one index scan over the batch's ids).
--   A hash, not the id: a WhatsApp message id encodes the recipient's number. The chance that a message looked up
--   shares its hash with one of 100M remembered ones is about 1 in 2 x 10^11; the cost would be its statuses dropped.
--   * rebuild_rollups leaves alone the days before the first whole UTC day on or after deleted_before: their rows
--     are gone, their rollups are the only record. rollups_kept_before() says from when.
--   * erase_recipient_rows locks the person's rows in message id order first, as writers do, and anonymises exactly
--     the rows it locked and remembered.
--   Left as it is: failures are counted in the rollups at their failure time, so a rebuild of a day after the cutoff
--   still loses the failures of deleted messages that failed that day (docs/retention.md).
-- What it costs: per batch, once anything was erased or retention has run, one look-up of the keys of the messages
-- it inserted (docs/performance.md has the figures); per message retention deletes unread, a row of about 70 bytes
-- with its index, for 60 days (docs/retention.md). Before either, two checks of small tables.
-- Forward-only and re-runnable, like the others.

create table if not exists public.broadcasts_retention_state (
  id boolean primary key default true check (id),
  deleted_before timestamptz not null
);
comment on table public.broadcasts_retention_state is
  'The latest cutoff retention deleted messages before (delete_expired_messages); statuses timed before it are dropped (0032).';

create table if not exists public.broadcasts_erased_messages (
  message_key bigint primary key,
  erased_at timestamptz not null default now()
);
comment on table public.broadcasts_erased_messages is
  'Messages erasure anonymised, by broadcasts_message_key(message_id): their later statuses are dropped (0032).';

create table if not exists public.broadcasts_expired_messages (
  message_key bigint primary key,
  forget_until timestamptz not null
);
create index if not exists broadcasts_expired_messages_until_idx on public.broadcasts_expired_messages (forget_until);
comment on table public.broadcasts_expired_messages is
  'Messages retention deleted unread, by broadcasts_message_key(message_id), until forget_until: their late statuses are dropped (0032).';

alter table public.broadcasts_retention_state enable row level security;
alter table public.broadcasts_erased_messages enable row level security;
alter table public.broadcasts_expired_messages enable row level security;
do $$
begin
  if exists (select 1 from pg_roles where rolname = 'anon') then
    execute 'revoke all on public.broadcasts_retention_state, public.broadcasts_erased_messages,
             public.broadcasts_expired_messages from anon, authenticated';
  end if;
end;
$$;

-- The one home of how a message id is hashed for the two tables above.
create or replace function public.broadcasts_message_key(message_id text)
returns bigint
language sql
immutable
parallel safe
return hashtextextended(message_id, 0);

-- 0031's fold, which now drops the statuses timed before retention's latest cutoff; the rest is unchanged.
create or replace function public.broadcasts_fold_status_updates(updates jsonb)
returns setof public.broadcasts_status_batch
language plpgsql
stable
set search_path = public, pg_temp
as $$
declare
  deleted_before timestamptz := coalesce((select s.deleted_before from public.broadcasts_retention_state s), '-infinity');
begin
  return query
  with incoming as (
    select u.message_id, u.status, u."timestamp" as ts,
           nullif(u.phone_number, '') as phone_number,
           nullif(u.recipient_user_id, '') as recipient_user_id,
           nullif(u.recipient_parent_user_id, '') as recipient_parent_user_id,
           nullif(u.sender_waba_id, '') as sender_waba_id,
           nullif(u.sender_phone_number_id, '') as sender_phone_number_id,
           nullif(u.sender_display_phone_number, '') as sender_display_phone_number,
           nullif(u.sender_project_id, '') as sender_project_id,
           nullif(u.campaign, '') as campaign,
           nullif(u.provider_message_id, '') as provider_message_id,
           u.error, u.conversation, u.pricing
      from jsonb_to_recordset(updates) as u(
             message_id text, status text, "timestamp" timestamptz, phone_number text, campaign text,
             provider_message_id text, error jsonb, conversation jsonb, pricing jsonb,
             recipient_user_id text, recipient_parent_user_id text, sender_waba_id text,
             sender_phone_number_id text, sender_display_phone_number text, sender_project_id text)
     where u."timestamp" >= deleted_before
  ),
  batch as (
    -- One row per message: the same least() rules as the merge below, so folding first changes nothing.
    select i.message_id,
           min(i.phone_number) as phone_number,
           min(i.recipient_user_id) as recipient_user_id,
           min(i.recipient_parent_user_id) as recipient_parent_user_id,
           min(i.sender_waba_id) as sender_waba_id,
           min(i.sender_phone_number_id) as sender_phone_number_id,
           min(i.sender_display_phone_number) as sender_display_phone_number,
           min(i.sender_project_id) as sender_project_id,
           min(i.ts) filter (where i.status = 'sent') as reported_sent_at,
           min(i.ts) filter (where i.status = 'delivered') as reported_delivered_at,
           min(i.ts) filter (where i.status = 'read') as reported_read_at,
           min(i.ts) filter (where i.status = 'played') as played_at,
           min(i.ts) filter (where i.status = 'failed') as failed_at,
           (array_agg(i.error order by i.ts, coalesce(i.error::text, '~'))
              filter (where i.status = 'failed'))[1] as failure,
           min(i.campaign) as campaign,
           min(i.provider_message_id) as provider_message_id,
           (array_agg(i.conversation order by i.conversation) filter (where i.conversation is not null))[1]
             as conversation,
           (array_agg(i.pricing order by i.pricing) filter (where i.pricing is not null))[1] as pricing
      from incoming i
     group by i.message_id
  )
  select * from batch;
end;
$$;

-- The messages of a merge that it inserted and that were erased, or deleted unread by retention and have no `sent` in
-- this batch (a new message's statuses begin with its `sent`; a late read, delivery or expiry failure does not).
-- Only inserted ones are looked up: a message in the table under its id was neither erased (erasure renames the rows)
-- nor deleted. Each lookup is one index scan over an array of keys (a probe per message, a subplan each, cost about
-- 3 ms a batch of 1,000 when it was done for every message before the merge).
create or replace function public.broadcasts_forgotten_among(
  batch public.broadcasts_status_batch[], changes public.broadcasts_status_change[])
returns text[]
language plpgsql
stable
set search_path = public, pg_temp
as $$
declare
  -- Whether there is anything to look up, from tables never deleted from: an EXISTS on the expired table itself would
  -- walk the rows its cleanup deleted (oldest first, at the table's start) until vacuum came.
  any_erased boolean := exists (select from public.erasure_log);
  any_expired boolean := exists (select from public.broadcasts_retention_state);
  forgotten text[];
begin
  if not (any_erased or any_expired) then
    return '{}';
  end if;
  with inserted as (
    select c.message_id, b.reported_sent_at is null as unsent, public.broadcasts_message_key(c.message_id) as message_key
      from unnest(changes) c
      join unnest(batch) b on b.message_id = c.message_id
     where c.inserted
  )
  select coalesce(array_agg(i.message_id), '{}') into forgotten
    from inserted i
   where (any_erased
          and i.message_key = any (array(select e.message_key from public.broadcasts_erased_messages e
                                          where e.message_key = any (array(select message_key from inserted)))))
      or (any_expired
          and i.unsent
          and i.message_key = any (array(select x.message_key from public.broadcasts_expired_messages x
                                          where x.message_key = any (array(select message_key from inserted
                                                                            where unsent)))));
  return forgotten;
end;
$$;

comment on function public.broadcasts_forgotten_among(public.broadcasts_status_batch[], public.broadcasts_status_change[]) is
  'apply_status_updates'' check of the messages a merge inserted against the erased and expired ones (internal to it). See 0032.';

-- 0031's apply_status_updates, which now undoes a merge that inserted a forgotten message and merges the batch again
-- without it (by the same path as a merge that met another writer); the rest is unchanged.
create or replace function public.apply_status_updates(updates jsonb)
returns table (
  message_id text,
  inserted boolean,
  previous_status jsonb,
  status jsonb,
  inferred_stages text[]
)
language plpgsql
volatile
set search_path = public, pg_temp
as $$
#variable_conflict use_column
declare
  bad record;
  batch public.broadcasts_status_batch[];
  changes public.broadcasts_status_change[];
  inserted_rows public.broadcasts_status_change[];
  stale boolean;
  forgotten text[] := '{}';
  rest public.broadcasts_status_batch[];
begin
  if updates is null or jsonb_typeof(updates) <> 'array' then
    raise exception 'apply_status_updates: updates must be a JSON array' using errcode = '22023';
  end if;

  select u.ordinality - 1 as idx, u.value ->> 'message_id' as mid, u.value ->> 'status' as st
    into bad
    from jsonb_array_elements(updates) with ordinality as u(value, ordinality)
   where jsonb_typeof(u.value) <> 'object'
      or coalesce(u.value ->> 'message_id', '') = ''
      or coalesce(u.value ->> 'status', '') not in ('sent', 'delivered', 'read', 'played', 'failed')
      or u.value ->> 'timestamp' is null
   limit 1;
  if found then
    raise exception 'apply_status_updates: update % is invalid (message_id %, status %)', bad.idx, bad.mid, bad.st
      using errcode = '22023';
  end if;

  batch := array(select f from public.broadcasts_fold_status_updates(updates) f);

  -- The merge, as one statement, in a savepoint: it stands unless a row changed under it.
  begin
    select array_agg(row(c.message_id, c.inserted, c.previous_status, c.status, c.inferred_stages)
                       ::public.broadcasts_status_change order by c.message_id),
           coalesce(bool_or(c.stale), false)
      into changes, stale
      from public.broadcasts_merge_status_batch(batch) c;
    forgotten := public.broadcasts_forgotten_among(batch, changes);
    if not stale and cardinality(forgotten) = 0 then
      return query select c.* from unnest(changes) c;
      return;
    end if;
    raise exception 'undo' using errcode = 'DT001';
  exception when sqlstate 'DT001' then
    -- Undone: another writer changed or inserted a message of this batch while this call waited for it, or the merge
    -- inserted a message that was erased or deleted (0032), which is left out now.
  end;
  if cardinality(forgotten) > 0 then
    batch := array(select b from unnest(batch) b where b.message_id <> all (forgotten));
  end if;

  -- Again, with every row locked before the merge's snapshot. 1. Insert the new messages and lock the existing
  -- ones, in message id order (a writer still busy with one of them is waited for here). The first try's locks were
  -- let go: a message erased or deleted since is new here, so what this step inserts is checked too (0032).
  loop
    begin
      with inserted as (
        insert into public.broadcasts_messages as m (
          message_id, phone_number, reported_sent_at, reported_delivered_at, reported_read_at, played_at, failed_at,
          failure, campaign, provider_message_id, conversation, pricing, recipient_user_id, recipient_parent_user_id,
          sender_waba_id, sender_phone_number_id, sender_display_phone_number, sender_project_id)
        select b.message_id, b.phone_number, b.reported_sent_at, b.reported_delivered_at, b.reported_read_at,
               b.played_at, b.failed_at, b.failure, b.campaign, b.provider_message_id, b.conversation, b.pricing,
               b.recipient_user_id, b.recipient_parent_user_id, b.sender_waba_id, b.sender_phone_number_id,
               b.sender_display_phone_number, b.sender_project_id
          from unnest(batch) b
         order by b.message_id
        on conflict on constraint broadcasts_messages_message_id_key do update set updated_at = m.updated_at
        where false
        returning m.message_id, m.status, m.inferred_stages
      )
      -- `b` from unnest(batch) keeps the array's type: an array of anonymous records (from a CTE's `select *`) was
      -- converted through text, and a session with a non-ISO DateStyle read the times back in the wrong zone.
      select (select array_agg(b)
                from unnest(batch) b
               where not exists (select from inserted i where i.message_id = b.message_id)),
             (select coalesce(array_agg(row(i.message_id, true, null, i.status, i.inferred_stages)
                                        ::public.broadcasts_status_change), '{}')
                from inserted i)
        into rest, inserted_rows;
      forgotten := public.broadcasts_forgotten_among(batch, inserted_rows);
      exit when cardinality(forgotten) = 0;
      raise exception 'undo' using errcode = 'DT001';
    exception when sqlstate 'DT001' then
      batch := array(select b from unnest(batch) b where b.message_id <> all (forgotten));
    end;
  end loop;
  batch := rest;

  -- 2. The merge of the rest: every row is locked by this transaction, so nothing waits and no row is stale.
  return query
  select c.* from (
    select m.message_id, m.inserted, m.previous_status, m.status, m.inferred_stages
      from public.broadcasts_merge_status_batch(batch) m
    union all
    select r.* from unnest(inserted_rows) r
  ) c
  order by c.message_id;
end;
$$;

-- 0025's retention, which now also records its cutoff and remembers the messages it deletes that could still be
-- heard of after it: those not read and not failed for 60 days, the others until the cutoff passes their latest
-- stage (a replay or redrive of a later day brings statuses timed after the cutoff). It drops the remembered ones
-- whose time is over, a batch of them per call.
create or replace function public.delete_expired_messages(older_than timestamptz, batch_size integer)
returns integer
language plpgsql
volatile
set search_path = public, pg_temp
as $$
declare
  deleted integer;
  unsent integer;
  remember_for constant interval := interval '60 days';
begin
  if older_than is null then
    raise exception 'delete_expired_messages: older_than is required' using errcode = '22023';
  end if;
  if batch_size is null or batch_size < 1 or batch_size > 10000 then
    raise exception 'delete_expired_messages: batch_size must be 1 to 10000, not %', batch_size using errcode = '22023';
  end if;
  -- Before the first delete, so that no status timed before the cutoff is stored again while this call deletes.
  insert into public.broadcasts_retention_state as s (id, deleted_before) values (true, older_than)
  on conflict (id) do update set deleted_before = excluded.deleted_before
   where s.deleted_before < excluded.deleted_before;

  with doomed as (
    select m.id from public.broadcasts_messages m
     where m.sent_at < older_than
     order by m.sent_at
     limit batch_size
       for update skip locked
  ),
  gone as (
    delete from public.broadcasts_messages m using doomed d where m.id = d.id
    returning m.message_id, m.read_at is null and m.failed_at is null as open,
              greatest(m.reported_sent_at, m.reported_delivered_at, m.reported_read_at, m.played_at, m.failed_at)
                as latest
  ),
  remembered as (
    insert into public.broadcasts_expired_messages as x (message_key, forget_until)
    select public.broadcasts_message_key(g.message_id),
           now() + greatest(case when g.open then remember_for else interval '0' end, g.latest - older_than)
      from gone g
     where g.open or g.latest >= older_than
    on conflict (message_key) do update set forget_until = greatest(x.forget_until, excluded.forget_until)
  )
  select count(*) into deleted from gone;
  -- Messages never sent, once the sent ones of the period are gone (few: failures before sending, pre-inserted rows).
  if deleted < batch_size then
    with doomed as (
      select m.id from public.broadcasts_messages m
       where m.sent_at is null and coalesce(m.failed_at, m.created_at) < older_than
       order by coalesce(m.failed_at, m.created_at)
       limit batch_size - deleted
         for update skip locked
    ),
    gone as (
      delete from public.broadcasts_messages m using doomed d where m.id = d.id
      returning m.message_id, m.failed_at is null as open, m.failed_at as latest
    ),
    remembered as (
      insert into public.broadcasts_expired_messages as x (message_key, forget_until)
      select public.broadcasts_message_key(g.message_id),
             now() + greatest(case when g.open then remember_for else interval '0' end, g.latest - older_than)
        from gone g
       where g.open or g.latest >= older_than
      on conflict (message_key) do update set forget_until = greatest(x.forget_until, excluded.forget_until)
    )
    select count(*) into unsent from gone;
    deleted := deleted + unsent;
  end if;

  with done as (
    select x.message_key from public.broadcasts_expired_messages x
     where x.forget_until < now()
     order by x.forget_until
     limit batch_size
       for update skip locked
  )
  delete from public.broadcasts_expired_messages x using done d where x.message_key = d.message_key;
  return deleted;
end;
$$;

-- 0017's erasure: the same rows and columns, now locked in message id order first (writers lock in that order, so
-- the two no longer deadlock), and each erased message remembered for good, so that no later status stores the
-- number again.
create or replace function public.erase_recipient_rows(phones text[], user_ids text[], reference text)
returns bigint
language plpgsql
set search_path = public, pg_temp
as $$
declare
  all_phones text[] := phones;
  all_user_ids text[] := user_ids;
  known integer := -1;
  erased bigint;
  row_ids bigint[];
begin
  -- The identifiers seen beside the known ones on any row, until no row adds one: a phone leads to its user id,
  -- the user id to its parent id, the parent id to rows that carry only it. A few rounds at most.
  while cardinality(all_phones) + cardinality(all_user_ids) > known loop
    known := cardinality(all_phones) + cardinality(all_user_ids);
    select array(select distinct x from unnest(all_phones || array_agg(m.phone_number)) as x where x is not null),
           array(select distinct x
                   from unnest(all_user_ids || array_agg(m.recipient_user_id) || array_agg(m.recipient_parent_user_id)) as x
                  where x is not null)
      into all_phones, all_user_ids
      from public.broadcasts_messages m
     where m.phone_number = any (all_phones)
        or m.recipient_user_id = any (all_user_ids)
        or m.recipient_parent_user_id = any (all_user_ids);
  end loop;

  -- The rows are locked and remembered by one statement, and only those are anonymised: a row committed in between
  -- for the same person waits for the next erasure, rather than being renamed unremembered.
  with locked as (
    select m.id, m.message_id from public.broadcasts_messages m
     where m.phone_number = any (all_phones)
        or m.recipient_user_id = any (all_user_ids)
        or m.recipient_parent_user_id = any (all_user_ids)
     order by m.message_id
       for update
  ),
  remembered as (
    insert into public.broadcasts_erased_messages (message_key)
    select public.broadcasts_message_key(l.message_id) from locked l
    on conflict (message_key) do nothing
  )
  select coalesce(array_agg(l.id), '{}') into row_ids from locked l;

  update public.broadcasts_messages
     set phone_number = null,
         recipient_user_id = null,
         recipient_parent_user_id = null,
         message_id = 'erased:' || id,
         provider_message_id = null,
         conversation = null,
         pricing = null,
         failure = case when failure is null then null
                        else jsonb_strip_nulls(jsonb_build_object('code', failure -> 'code', 'title', failure -> 'title')) end,
         updated_at = now()
   where id = any (row_ids);
  get diagnostics erased = row_count;
  insert into public.erasure_log (rows_erased, reference) values (erased, reference);
  return erased;
end;
$$;

-- The first whole UTC day whose message rows retention has not deleted from: rebuild_rollups leaves the days before it
-- alone. Null while retention has deleted nothing.
create or replace function public.rollups_kept_before()
returns timestamptz
language sql
stable
set search_path = public, pg_temp
as $$
  select case when date_bin('1 day', s.deleted_before, timestamptz '2000-01-01 00:00+00') = s.deleted_before
              then s.deleted_before
              else date_bin('1 day', s.deleted_before, timestamptz '2000-01-01 00:00+00') + interval '1 day' end
    from public.broadcasts_retention_state s;
$$;

-- 0028's rebuild, which now starts no earlier than rollups_kept_before(): the rollups before it are the only record of
-- messages retention deleted.
create or replace function public.rebuild_rollups(range_start timestamptz default null, range_end timestamptz default null)
returns bigint
language plpgsql
volatile
set search_path = public, pg_temp
as $$
declare
  lo timestamptz;
  hi timestamptz;
begin
  -- Whole UTC days: the coarsest rollup rows cover a day.
  lo := case when range_start is null then '-infinity'::timestamptz
             else date_bin('1 day', range_start, timestamptz '2000-01-01 00:00+00') end;
  hi := case when range_end is null then 'infinity'::timestamptz
             when date_bin('1 day', range_end, timestamptz '2000-01-01 00:00+00') = range_end then range_end
             else date_bin('1 day', range_end, timestamptz '2000-01-01 00:00+00') + interval '1 day' end;
  lock table public.broadcasts_messages in share mode;
  perform pg_advisory_xact_lock(hashtext('public.broadcasts_rollup'));
  -- Read under the lock: retention may have moved it while this call waited.
  lo := greatest(lo, coalesce(public.rollups_kept_before(), '-infinity'));
  if lo >= hi then
    return 0;
  end if;
  return public.rebuild_main_rollup(lo, hi) + public.rebuild_pricing_rollup(lo, hi);
end;
$$;

revoke execute on function public.broadcasts_message_key(text) from public;
revoke execute on function public.broadcasts_forgotten_among(public.broadcasts_status_batch[], public.broadcasts_status_change[]) from public;
revoke execute on function public.rollups_kept_before() from public;
do $$
begin
  if exists (select 1 from pg_roles where rolname = 'anon') then
    execute 'revoke execute on function public.broadcasts_message_key(text) from anon, authenticated';
    execute 'revoke execute on function public.broadcasts_forgotten_among(public.broadcasts_status_batch[], public.broadcasts_status_change[]) from anon, authenticated';
    execute 'revoke execute on function public.rollups_kept_before() from anon, authenticated';
  end if;
  if exists (select 1 from pg_roles where rolname = 'service_role') then
    execute 'grant execute on function public.broadcasts_message_key(text) to service_role';
    execute 'grant execute on function public.broadcasts_forgotten_among(public.broadcasts_status_batch[], public.broadcasts_status_change[]) to service_role';
    execute 'grant execute on function public.rollups_kept_before() to service_role';
  end if;
end;
$$;
