-- grain: one row: the moment the warehouse is known current as of, which decides what counts
-- as past: the latest sync that read the events whole and found them adding up (a run that
-- changed nothing too), else the latest that wrote events, else the clock. Rows stamped
-- after that sync (a write-back's re-read of a few bookings, a run that did not add up) do
-- not move it: the other bookings were not read then
-- materialized: table
with

events as (

    select * from analytics.stg_events

),

runs as (

    select * from raw._sync_runs

),

newest_written as (

    select max(synced_at) as synced_at
    from events

),

newest_current as (

    select max(events_current_at) as events_current_at
    from runs

)

select
    coalesce(
        newest_current.events_current_at,
        newest_written.synced_at,
        now()
    ) as as_of
from newest_written
cross join newest_current
