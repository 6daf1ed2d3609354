-- grain: one row: the moment the warehouse is current as of (the latest sync that wrote
-- events), which decides what counts as past
-- materialized: table
with

events as (

    select * from analytics.stg_events

)

select
    coalesce(max(synced_at), now()) as as_of
from events
