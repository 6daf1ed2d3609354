-- grain: one row per moment a sync read the events whole and found them adding up: the
-- moments the warehouse was known current as of (int_as_of takes the latest; the state as of
-- a past date, simplymeet.models.as_of, the latest before it)
-- materialized: view
with

runs as (

    select * from raw._sync_runs

)

select distinct events_current_at
from runs
where events_current_at is not null
