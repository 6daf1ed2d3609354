-- grain: one row per time a booking (not deleted upstream) was rescheduled
-- materialized: view
with

source as (

    select * from raw.events__rescheduling as reschedulings
    where not exists (
        select 1 from raw.events as deleted_events
        where deleted_events.id = reschedulings.event_id
            and deleted_events.account = reschedulings.account
            and deleted_events.deleted_at is not null
    )

),

renamed as (

    select
        -- ids
        account,
        event_id,
        id as rescheduling_id,
        previous_user_id,

        -- strings
        rescheduler,
        -- trim() strips spaces only: a tab or a line break around a reason is whitespace
        -- too (two anchored patterns, no 'g' flag: BigQuery's regexp_replace takes none)
        nullif(
            regexp_replace(regexp_replace(reason, '^\s+', ''), '\s+$', ''), ''
        ) as reschedule_reason,

        -- numerics
        position_in_parent,

        -- timestamps (UTC)
        previously_scheduled_at,
        _synced_at as synced_at

    from source

)

select * from renamed
