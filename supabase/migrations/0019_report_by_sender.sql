-- The delivery report by sender (issue 14, item 2): agencies and larger teams run several numbers, WhatsApp Business
-- Accounts and AiSensy projects into one endpoint, and need each one's figures.
--
-- delivery_report_by() is now the one home of the report's figures, grouped by sender, by campaign, by both or by
-- neither; delivery_report() (and delivery_summary(), which reads it) keep their signature and results and read it.

-- How a sender is named in reports: its display number, else its phone number id, else its AiSensy project.
create or replace function public.broadcasts_sender_label(
  display_phone_number text, phone_number_id text, project_id text)
returns text
language sql immutable parallel safe
return coalesce(display_phone_number, 'phone number id ' || phone_number_id, 'AiSensy project ' || project_id,
                '(unknown sender)');

create or replace function public.delivery_report_by(
  period_start timestamptz, period_end timestamptz, by_sender boolean default false, by_campaign boolean default false)
returns table (
  sender text,
  campaign text,
  total_messages bigint,
  sent bigint,
  delivered bigint,
  read bigint,
  failed bigint,
  delivery_rate_percent numeric,
  read_rate_percent numeric,
  avg_delivery_seconds numeric,
  avg_read_delay_minutes numeric)
language sql stable
set search_path = public, pg_temp
as $$
  select case when by_sender then public.broadcasts_sender_label(
           m.sender_display_phone_number, m.sender_phone_number_id, m.sender_project_id) end,
         case when by_campaign then coalesce(m.campaign, '(none)') end,
         count(*),
         count(*) filter (where m.sent_at is not null),
         count(*) filter (where m.delivered_at is not null),
         count(*) filter (where m.read_at is not null),
         count(*) filter (where m.failed_at is not null),
         round(100.0 * count(*) filter (where m.delivered_at is not null)
               / nullif(count(*) filter (where m.sent_at is not null), 0), 2),
         round(100.0 * count(*) filter (where m.read_at is not null)
               / nullif(count(*) filter (where m.delivered_at is not null), 0), 2),
         round(avg(extract(epoch from m.reported_delivered_at - m.reported_sent_at))
                 filter (where not (m.inferred_stages && array['sent', 'delivered'])), 3),
         round(avg(extract(epoch from m.reported_read_at - m.reported_delivered_at) / 60)
                 filter (where not (m.inferred_stages && array['delivered', 'read'])), 3)
    from public.broadcasts_messages m
   where ((m.sent_at >= period_start and m.sent_at < period_end)
       or (m.sent_at is null and m.failed_at >= period_start and m.failed_at < period_end))
   group by 1, 2
   order by 1 nulls first, 3 desc, 2;
$$;

-- The same signature and columns as in 0004; the figures now come from delivery_report_by.
create or replace function public.delivery_report(
  period_start timestamptz, period_end timestamptz, by_campaign boolean default false)
returns table (
  campaign text,
  total_messages bigint,
  sent bigint,
  delivered bigint,
  read bigint,
  failed bigint,
  delivery_rate_percent numeric,
  read_rate_percent numeric,
  avg_delivery_seconds numeric,
  avg_read_delay_minutes numeric)
language sql stable
set search_path = public, pg_temp
as $$
  select r.campaign, r.total_messages, r.sent, r.delivered, r.read, r.failed, r.delivery_rate_percent,
         r.read_rate_percent, r.avg_delivery_seconds, r.avg_read_delay_minutes
    from public.delivery_report_by(period_start, period_end, false, by_campaign) r
   order by r.total_messages desc, r.campaign;
$$;

revoke execute on function public.delivery_report_by(timestamptz, timestamptz, boolean, boolean) from public;
revoke execute on function public.broadcasts_sender_label(text, text, text) from public;
do $$
begin
  if exists (select 1 from pg_roles where rolname = 'anon') then
    execute 'revoke execute on function public.delivery_report_by(timestamptz, timestamptz, boolean, boolean) from anon, authenticated';
    execute 'revoke execute on function public.broadcasts_sender_label(text, text, text) from anon, authenticated';
  end if;
  if exists (select 1 from pg_roles where rolname = 'service_role') then
    execute 'grant execute on function public.delivery_report_by(timestamptz, timestamptz, boolean, boolean) to service_role';
    execute 'grant execute on function public.broadcasts_sender_label(text, text, text) to service_role';
  end if;
end;
$$;
