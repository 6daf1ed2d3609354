-- grain: one row per flexible duration offered by an event type
-- materialized: view
with

source as (

    select * from raw.event_types__durations

),

renamed as (

    select
        -- ids
        account,
        event_type_id,
        id as event_type_duration_id,

        -- numerics
        duration as duration_minutes,
        position_in_parent,

        -- timestamps (UTC)
        _synced_at as synced_at

    from source

)

select * from renamed
