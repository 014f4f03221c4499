-- A status racing retention's delete of its message is dropped like one that came after it (0032's known race).
--
-- apply_status_updates' fold drops the statuses timed before retention's cutoff (broadcasts_retention_state), as it
-- reads the cutoff when the call starts. When retention deletes a message and moves the cutoff past it while a call
-- for that message is under way, the call has read the old cutoff: its status (a duplicate read, a replayed day)
-- passes the fold, its merge waits on the row retention is deleting, and once retention commits it inserts the
-- message again as new, and the rollups, which keep the deleted message's counts, count it a second time. 0032's
-- check after the merge did not catch it: a message retention deletes read or failed before the cutoff is not among
-- the reminders of broadcasts_expired_messages, and a remembered one is left out only when its batch has no `sent`,
-- while a replay of its whole day carries the old `sent` the racing fold kept.
--
-- The check after the merge (broadcasts_forgotten_among, a statement of its own, so under READ COMMITTED it sees what
-- retention committed meanwhile) now reads the cutoff again and judges the inserted messages as a fold started a
-- moment later would have: one whose times in the batch (the earliest of each stage) are all before the cutoff is
-- left out, and a `sent` before the cutoff counts as absent for the reminders' check. apply_status_updates then
-- undoes the merge and redoes it without them, as for the others (0032). Nothing changes when the cutoff did not move
-- during the call: the fold already dropped every status before it. Only messages the merge inserted are looked at,
-- and only once retention has ever run: a comparison or two each.
--
-- Also: the reminders of messages retention deleted (0032) are looked up while no cutoff is recorded too. A cleared
-- cutoff (docs/retention.md: before a replay of the archive) used to switch them off with it, and a late read of a
-- message deleted unread was stored as a new message.
--
-- Left as it is (docs/retention.md): a batch holds the earliest time of each stage, so a message whose batch has the
-- same stage twice, once on each side of a cutoff that moved during the call, is left out where a later fold would
-- have stored it at the later time.
--
-- Forward-only and re-runnable: the function is redefined whole, with 0032's signature (so 0032's grants stay);
-- apply_status_updates is unchanged.

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
  -- Read now, not when the call started: retention may have moved it while the merge waited on a row it deleted.
  cutoff timestamptz := (select s.deleted_before from public.broadcasts_retention_state s);
  -- Reminders count without a cutoff too: retention.md has the cutoff cleared before a replay of the archive, and
  -- the messages deleted unread must stay forgotten meanwhile. Their live rows are at the index's high end, away
  -- from those the cleanup deleted (forget_until passed), so this probe does not walk dead rows either.
  any_expired boolean := cutoff is not null
    or exists (select from public.broadcasts_expired_messages x where x.forget_until > now());
  forgotten text[];
begin
  if not (any_erased or any_expired) then
    return '{}';
  end if;
  with inserted as (
    select c.message_id,
           -- A `sent` before the cutoff is one a fold started now would have dropped.
           b.reported_sent_at is null or b.reported_sent_at < cutoff as unsent,
           public.broadcasts_message_key(c.message_id) as message_key,
           -- greatest() skips nulls: the latest of the stages the batch holds for the message.
           greatest(b.reported_sent_at, b.reported_delivered_at, b.reported_read_at, b.played_at, b.failed_at)
             < cutoff as before_cutoff
      from unnest(changes) c
      join unnest(batch) b on b.message_id = c.message_id
     where c.inserted
  )
  select coalesce(array_agg(i.message_id), '{}') into forgotten
    from inserted i
   where (any_expired and i.before_cutoff)
      or (any_erased
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
  'apply_status_updates'' check of the messages a merge inserted against the erased and expired ones and the cutoff as it is now (internal to it). See 0032, 0033.';
