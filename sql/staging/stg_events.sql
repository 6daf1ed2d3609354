-- grain: one row per booking (event), excluding events deleted upstream
-- materialized: view
-- States are normalized through analytics.seed_event_states, written by the runner from
-- simplymeet.contract.vocab.STATE_SYNONYMS; a cancellation timestamp always means canceled.
with

source as (

    select * from raw.events
    where deleted_at is null

),

state_synonyms as (

    select * from analytics.seed_event_states

),

cancelers as (

    select * from analytics.seed_cancelers

),

timezone_names as (

    select name from analytics.seed_timezone_names

),

renamed as (

    select
        -- ids
        source.account,
        source.id as event_id,
        source.uuid as event_uuid,
        source.user_id as host_user_id,
        source.event_type_id,
        source.invitee_id,
        source.invitee_uuid,
        source.cancellation_id,
        source.payment_reference_id,
        source.related_event_ids,

        -- strings
        source.state as state_raw,
        case
            when source.canceled_at is not null then 'canceled'
            when source.state is null then 'unknown'
            else coalesce(state_synonyms.state, 'unknown')
        end as state,
        source.cancellation_canceler as canceler_raw,
        case
            when cancelers.canceler is not null then cancelers.canceler
            when source.cancellation_canceler is not null then 'unknown'
        end as canceled_by,
        -- trim() strips spaces only: a tab or a line break around a reason is whitespace
        -- too (two anchored patterns, no 'g' flag: BigQuery's regexp_replace takes none)
        nullif(
            regexp_replace(
                regexp_replace(source.cancellation_reason, '^\s+', ''), '\s+$', ''
            ),
            ''
        ) as cancellation_reason,
        -- the host's zone as the event embeds its owner (UserDTO): a host the user list no
        -- longer serves keeps one calendar (int_host_timezones)
        source.user_timezone as host_timezone_served,
        -- the owner's and the type's names as the event embeds them: a host or a type the
        -- lists no longer serve keeps its name (fct_events)
        source.user_full_name as host_full_name_served,
        source.user_email as host_email_served,
        source.event_type_name as event_type_name_served,
        source.event_type_kind as event_type_kind_served,
        -- a zone DuckDB does not know is treated as missing, as stg_event_types does
        case
            when timezone_names.name is not null then source.event_type_timezone
        end as event_type_timezone_served,
        source.invitee_email,
        source.invitee_full_name,
        source.invitee_timezone,
        source.invitee_phone_number,
        source.invitee_locale,
        source.invitee_cancellation_policy,
        source.payment_provider,
        source.payment_currency,
        source.payment_status,
        source.payment_system,
        source.notes,
        source.details,
        source.location,
        source.location_type,
        source.online_event_id,

        -- numerics
        source.duration as duration_minutes,
        source.event_type_duration as event_type_duration_minutes_served,
        source.payment_amount,
        source.sent_email_reminder,
        source.last_sent_invitee_email_reminder,
        source.last_sent_invitee_email_follow_up,

        -- booleans
        source.payment_overwrite_personal,

        -- timestamps (UTC)
        source.created_at,
        source.updated_at,
        source.scheduled_at,
        source.end_date as end_at,
        source.canceled_at,
        source._synced_at as synced_at

    from source
    left join state_synonyms
        on lower(regexp_replace(source.state, '^\s+|\s+$', '', 'g')) = state_synonyms.state_raw
    left join cancelers
        on lower(regexp_replace(source.cancellation_canceler, '^\s+|\s+$', '', 'g'))
        = cancelers.canceler
    left join timezone_names
        on source.event_type_timezone = timezone_names.name

)

select * from renamed
