-- grain: one row per location type an invitee may request for an event type
-- materialized: view
with

source as (

    select * from raw.event_types__request_location_types

),

renamed as (

    select
        -- ids
        account,
        event_type_id,
        id as request_location_type_id,

        -- strings
        location_type,

        -- numerics
        position_in_parent,

        -- timestamps (UTC)
        _synced_at as synced_at

    from source

)

select * from renamed
