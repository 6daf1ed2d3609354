-- grain: one row per (event type, user assigned to it)
-- materialized: view
with

source as (

    select * from raw.event_types__users

),

renamed as (

    select
        -- ids
        account,
        event_type_id,
        user_id,

        -- numerics
        position_in_parent,

        -- timestamps (UTC)
        _synced_at as synced_at

    from source

)

select * from renamed
