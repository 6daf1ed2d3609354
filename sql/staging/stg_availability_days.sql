-- grain: one row per (snapshot date, event type, calendar day) as the availability
-- endpoint showed it on the snapshot date
-- materialized: view
with

source as (

    select * from raw.event_type_availability_days

),

renamed as (

    select
        -- ids
        account,
        event_type_id,

        -- strings
        timezone as snapshot_timezone,

        -- booleans
        available as is_available,

        -- dates (the calendar day as the endpoint labels it, in snapshot_timezone)
        snapshot_date,
        date as available_date,

        -- timestamps (UTC)
        _synced_at as synced_at

    from source

)

select * from renamed
