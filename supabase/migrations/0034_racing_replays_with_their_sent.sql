-- A replay racing retention's delete of its message, with the message's old `sent` in it, is not stored again
-- (found by review of 0033).
--
-- 0033 leaves out an inserted message whose times in the batch are all before retention's cutoff as it is after the
-- merge. A replay of a message's whole day carries its `sent` too: sent before the new cutoff, read after it. Such a
-- message is among 0032's reminders (read after the cutoff), whose check leaves it out only when the batch has no
-- `sent` for it, and the racing call's fold, which had read the old cutoff, kept the `sent`. So the message was stored
-- again and counted twice. A fold started a moment later would have dropped that `sent`: the check now counts a
-- `sent` before the current cutoff as absent, as it counts the other stages. Nothing changes when the cutoff did not
-- move during the call: the fold already dropped every status before it.
--
-- Left as it is (docs/retention.md): a batch holds the earliest time of each stage, so a message whose batch has the
-- same stage twice, once on each side of a cutoff that moved during the call, is left out where a later fold would
-- have stored it at the later time.
--
-- Forward-only and re-runnable: the function is redefined whole, with 0032's signature (its grants stay).

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
    select c.message_id,
           -- A `sent` before the cutoff is one a fold started now would have dropped (0034).
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
  'apply_status_updates'' check of the messages a merge inserted against the erased and expired ones and the cutoff as it is now (internal to it). See 0032, 0033, 0034.';
