-- grain: one row per participant invited to a booking not deleted upstream
-- materialized: view
with

source as (

    select * from raw.events__participants as participants
    where not exists (
        select 1 from raw.events as deleted_events
        where deleted_events.id = participants.event_id
            and deleted_events.account = participants.account
            and deleted_events.deleted_at is not null
    )

),

renamed as (

    select
        -- ids
        account,
        event_id,
        id as participant_id,

        -- strings
        email as participant_email,

        -- timestamps (UTC)
        created_at,
        _synced_at as synced_at

    from source

)

select * from renamed
