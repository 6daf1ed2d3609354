-- grain: one row per (booking, user assigned to it), bookings not deleted upstream
-- materialized: view
with

source as (

    select * from raw.events__users as event_users
    where not exists (
        select 1 from raw.events as deleted_events
        where deleted_events.id = event_users.event_id
            and deleted_events.account = event_users.account
            and deleted_events.deleted_at is not null
    )

),

renamed as (

    select
        -- ids
        account,
        event_id,
        user_id,

        -- strings: the user as the event embeds it (a host the user list no longer serves)
        full_name as full_name_served,
        email as email_served,

        -- numerics
        position_in_parent,

        -- timestamps (UTC)
        _synced_at as synced_at

    from source

)

select * from renamed
