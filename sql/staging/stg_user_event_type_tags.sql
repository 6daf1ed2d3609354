-- grain: one row per event type tag defined by a user
-- materialized: view
with

source as (

    select * from raw.user_event_type_tags

),

renamed as (

    select
        -- ids
        account,
        id as tag_id,
        user_id,

        -- strings
        name as tag_name,
        color as tag_color,

        -- numerics
        position as tag_position,

        -- timestamps (UTC)
        _synced_at as synced_at

    from source

)

select * from renamed
