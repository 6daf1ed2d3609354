-- grain: one row per poll
-- materialized: view
with

source as (

    select * from raw.polls

),

renamed as (

    select
        -- ids
        account,
        id as poll_id,
        uuid as poll_uuid,
        user_id,
        event_type_id,

        -- strings
        name as poll_name,

        -- numerics
        duration as duration_minutes,

        -- booleans
        vote_visibility as is_vote_visible,
        comment_visibility as is_comment_visible,
        email_notification as has_email_notification,

        -- timestamps (UTC)
        created_at,
        _synced_at as synced_at

    from source

)

select * from renamed
