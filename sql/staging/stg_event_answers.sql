-- grain: one row per answer given on a booking not deleted upstream
-- materialized: view
with

source as (

    select * from raw.events__answers as answers
    where not exists (
        select 1 from raw.events as deleted_events
        where deleted_events.id = answers.event_id
            and deleted_events.account = answers.account
            and deleted_events.deleted_at is not null
    )

),

renamed as (

    select
        -- ids
        account,
        event_id,
        id as answer_id,
        question_uuid,

        -- strings
        question_label,
        question_type,
        value as answer_value,
        plain_value as answer_plain_value,

        -- timestamps (UTC)
        _synced_at as synced_at

    from source

)

select * from renamed
