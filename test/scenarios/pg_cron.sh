#!/usr/bin/env bash
# pg_cron: leasemgr.schedule_jobs() registers the jobs of the database it is called in, by
# name and idempotently, at GMT times converted from leasemgr.timezone; pg_cron really runs a
# leasemgr job body; from a database other than cron.database_name it refuses and says what to
# run there; CREATE EXTENSION schedules nothing, so a database dumps and restores with jobs
# scheduled; unschedule_jobs() removes them.
. "$(dirname "$0")/tap-lib.bash"
plan 10

cron_db=$(q -d postgres -c "SHOW cron.database_name")
# pg_cron's launcher lives in its database from the moment it exists and does not come back
# if the database is dropped under it: the database is kept, its jobs and leasemgr renewed.
if [ "$(q -d postgres -c "SELECT count(*) FROM pg_database WHERE datname = '$cron_db'")" = 0 ]; then
  q -d postgres -c "CREATE DATABASE $cron_db"
fi
q -d "$cron_db" -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS pg_cron" \
  -c "SELECT count(cron.unschedule(jobid)) FROM cron.job" -c "DROP EXTENSION IF EXISTS leasemgr CASCADE" \
  -c "CREATE EXTENSION leasemgr CASCADE" >/dev/null

# Asia/Shanghai is GMT+8: 00:05, 02:00 and 03:00 local are 16:05, 18:00 and 19:00 GMT.
is "$(q -d "$cron_db" -c "SELECT string_agg(job_name || ' ' || schedule, ', ' ORDER BY job_name) FROM leasemgr.schedule_jobs()")" \
   "leasemgr-bill-run:$cron_db 0 18 * * *, leasemgr-daily:$cron_db 5 16 * * *, leasemgr-escalations:$cron_db 5 * * * *, leasemgr-trim-cron-history:$cron_db 0 19 * * *" \
   "schedule_jobs registers the daily job, the hourly escalations, the bill run and the history trim at their GMT times"
q -d "$cron_db" -c "SELECT count(*) FROM leasemgr.schedule_jobs('01:30')" >/dev/null
is "$(q -d "$cron_db" -c "SELECT count(*) || ' ' || (SELECT schedule FROM cron.job WHERE jobname LIKE 'leasemgr-daily:%') FROM cron.job")" \
   "4 30 17 * * *" "registering again replaces the jobs by name: still four, the daily one now at 01:30 local"

# A real run: the daily job's own command, every minute, until pg_cron has run it once.
q -d "$cron_db" -c "SELECT cron.schedule_in_database('leasemgr-test-run', '* * * * *',
                       (SELECT command FROM leasemgr.job_definitions() WHERE job_name LIKE 'leasemgr-daily:%'), '$cron_db')" >/dev/null
status=
for _ in $(seq 1 80); do
  status=$(q -d "$cron_db" -c "SELECT d.status FROM cron.job_run_details d JOIN cron.job j ON j.jobid = d.jobid
                                 WHERE j.jobname = 'leasemgr-test-run' AND d.status IN ('succeeded', 'failed')
                                 ORDER BY d.runid LIMIT 1")
  [ -n "$status" ] && break
  sleep 1
done
is "$status" "succeeded" "pg_cron ran leasemgr.run_daily() in the database (waited for the next minute)"
q -d "$cron_db" -c "SELECT cron.unschedule('leasemgr-test-run')" >/dev/null

# From another database: refused, with the statements to run in the cron database.
other=lm_cron_other
fresh_db $other
q -d $other -c "SET client_min_messages = warning" -c "CREATE EXTENSION leasemgr CASCADE"
out=$(psql -X -q -d $other -c "SELECT leasemgr.schedule_jobs()" 2>&1 || true)
is "$(grep -c "ERROR:  pg_cron keeps its jobs in database $cron_db, not in $other" <<<"$out")" 1 \
   "from another database schedule_jobs refuses, naming the cron database"
is "$(grep -c "^SELECT cron.schedule_in_database('leasemgr-daily:$other'" <<<"$out")" 1 \
   "... and its hint gives the statements to run there"
# Run them there, as the hint says.
grep "^SELECT cron.schedule_in_database" <<<"$out" | q -d "$cron_db" >/dev/null
is "$(q -d "$cron_db" -c "SELECT count(*) FROM cron.job WHERE jobname LIKE 'leasemgr-%:$other'")" 4 \
   "the hint's statements register the other database's jobs"

# Dump and restore the other database while its jobs are scheduled: nothing breaks, nothing
# is scheduled twice (CREATE EXTENSION schedules nothing).
copy=lm_cron_other_copy
pg_dump -Fc -d $other -f "$tmp/other.dump"
fresh_db $copy
restore=$(pg_restore --exit-on-error -d $copy "$tmp/other.dump" 2>&1 && echo restored)
is "$(tail -1 <<<"$restore")" "restored" "a database with jobs scheduled dumps and restores"
is "$(q -d "$cron_db" -c "SELECT count(*) FROM cron.job")" 8 "the restore scheduled nothing: four jobs for each database"

is "$(q -d "$cron_db" -c "SELECT leasemgr.unschedule_jobs()")" 4 "unschedule_jobs removes this database's four jobs"
is "$(q -d "$cron_db" -c "SELECT count(*) FROM cron.job WHERE jobname LIKE 'leasemgr-%:$cron_db'")" 0 "... and they are gone"
finish
