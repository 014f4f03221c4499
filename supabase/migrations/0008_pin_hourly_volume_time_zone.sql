-- hourly_volume's hours are UTC hours (as its comment in 0004 says), but date_trunc('hour', timestamptz) truncates
-- in the session's TimeZone: on a database or connection set to Asia/Kolkata (+05:30) a message sent at 10:00 UTC
-- fell into the bucket starting 09:30 UTC. Found by running the tests in a non-UTC zone. The function now runs
-- in UTC whatever the caller's setting; the instants it returns are read in the caller's zone as before.
-- (best_send_hours and the dashboard view already convert with `at time zone 'UTC'`.) Re-runnable.
alter function public.hourly_volume(timestamptz, timestamptz) set timezone = 'UTC';
