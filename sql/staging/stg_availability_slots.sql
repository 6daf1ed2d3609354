-- grain: one row per (snapshot date, event type, day, start time) offered by the
-- availability endpoint on the snapshot date
-- materialized: view
with

source as (

    select * from raw.event_type_availability_slots

),

renamed as (

    select
        -- ids
        account,
        event_type_id,

        -- strings
        start as start_time_local,

        -- numerics
        duration_minutes,

        -- booleans
        available as is_available,

        -- dates
        snapshot_date,
        date as available_date,

        -- timestamps (UTC)
        start_at,
        _synced_at as synced_at

    from source

)

select * from renamed
