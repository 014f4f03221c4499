-- A status that races retention's delete of its message is dropped like one that came after it (0032's known race).
--
-- apply_status_updates' fold drops the statuses timed before retention's cutoff (broadcasts_retention_state), as it
-- reads the cutoff when the call starts. When retention deletes a message and moves the cutoff past it while a call
-- for that message is under way, the call has read the old cutoff: its status (a duplicate read, a replayed day)
-- passes the fold, its merge waits on the row retention is deleting, and once retention commits it inserts the
-- message again as new, and the rollups, which keep the deleted message's counts, count it a second time. A message
-- retention deletes read or failed before the cutoff is not among the reminders of broadcasts_expired_messages (its
-- statuses are all older than the cutoff), so 0032's check after the merge did not catch it.
--
-- The check after the merge (broadcasts_forgotten_among, a statement of its own, so it sees what retention committed
-- meanwhile) now also reads the cutoff again, and counts as forgotten an inserted message whose times in the batch
-- (the earliest of each stage) are all before it: what the fold would have dropped had it started a moment later.
-- apply_status_updates then undoes the merge and redoes it without the message, as for the others (0032).
-- Only messages the merge inserted are looked at, and only once retention has ever run: one more comparison each.
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
  any_expired boolean := cutoff is not null;
  forgotten text[];
begin
  if not (any_erased or any_expired) then
    return '{}';
  end if;
  with inserted as (
    select c.message_id, b.reported_sent_at is null as unsent, public.broadcasts_message_key(c.message_id) as message_key,
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

