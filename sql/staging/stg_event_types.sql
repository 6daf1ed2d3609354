-- grain: one row per event type
-- materialized: view
with

source as (

    select * from raw.event_types

),

timezone_names as (

    select name from analytics.seed_timezone_names

),

renamed as (

    select
        -- ids
        source.account,
        source.id as event_type_id,
        source.uuid as event_type_uuid,
        source.user_id as owner_user_id,

        -- strings
        source.name as event_type_name,
        source.type as event_type_kind,
        source.slug,
        source.color,
        source.currency,
        source.location_type,
        source.location,
        source.location_label,
        source.duration_type,
        source.timezone as timezone_raw,
        case when timezone_names.name is not null then source.timezone end as timezone,

        -- numerics
        source.duration as duration_minutes,
        source.amount,
        source.position,
        source.group_meeting_limit,

        -- booleans
        source.is_enabled,
        source.is_secret,
        source.is_localized,
        source.is_allow_cancel,
        source.is_allow_reschedule,
        source.is_show_phone,
        source.is_phone_field_required,
        source.is_multiple_meeting,
        source.show_group_meeting_rest,

        -- timestamps (UTC)
        source._synced_at as synced_at

    from source
    left join timezone_names
        on source.timezone = timezone_names.name

)

select * from renamed
