-- grain: one row per (event type, tag attached to it)
-- materialized: view
with

source as (

    select * from raw.event_type_tags

),

renamed as (

    select
        -- ids
        account,
        event_type_id,
        id as tag_id,

        -- strings
        name as tag_name,
        color as tag_color,

        -- numerics
        position as tag_position,

        -- booleans
        enabled as is_enabled,

        -- timestamps (UTC)
        _synced_at as synced_at

    from source

)

select * from renamed
