-- grain: one row per booking (event) not deleted upstream
-- materialized: table
-- Times are UTC (`_at`) and in the primary host's time zone (`_local`, int_host_timezones,
-- else the event type's, else UTC). Lateness is judged by the cancellation policy in force when
-- the booking was canceled: see sql/README.md.
with

events as (

    select * from analytics.stg_events

),

event_hosts as (

    select * from analytics.int_event_hosts

),

users as (

    select * from analytics.stg_users

),

host_timezones as (

    select * from analytics.int_host_timezones

),

api_key_owner as (

    select * from analytics.stg_users
    where is_api_key_owner

),

event_types as (

    select * from analytics.stg_event_types

),

reschedulings as (

    select * from analytics.stg_event_reschedulings

),

participants as (

    select * from analytics.stg_event_participants

),

cancellation_policies as (

    select * from analytics.stg_cancellation_policies

),

lead_time_buckets as (

    select * from analytics.int_lead_time_buckets

),

as_of as (

    select * from analytics.int_as_of

),

hosts_by_event as (

    select
        account,
        event_id,
        max(host_user_id) filter (where is_primary_host) as primary_host_user_id,
        max(host_full_name_served) filter (where is_primary_host)
            as primary_host_full_name_served,
        max(host_email_served) filter (where is_primary_host) as primary_host_email_served,
        list(host_user_id order by host_user_id) as host_user_ids,
        count(*) as host_count
    from event_hosts
    group by account, event_id

),

reschedules_by_event as (

    select
        account,
        event_id,
        count(*) as reschedule_count,
        min(previously_scheduled_at) as first_scheduled_at
    from reschedulings
    group by account, event_id

),

participants_by_event as (

    select
        account,
        event_id,
        count(*) as participant_count
    from participants
    group by account, event_id

),

events_with_hosts as (

    select
        events.*,
        hosts_by_event.primary_host_user_id,
        hosts_by_event.primary_host_full_name_served,
        hosts_by_event.primary_host_email_served,
        hosts_by_event.host_user_ids,
        coalesce(hosts_by_event.host_count, 0) as host_count,
        -- the event type's zone and length from its list, else as the booking embeds them
        -- (a type deleted upstream)
        coalesce(
            host_timezones.timezone,
            event_types.timezone,
            events.event_type_timezone_served,
            'UTC'
        ) as host_timezone,
        -- the API may give neither endDate nor duration: such a booking lasts its event
        -- type's duration, else ends where it starts, so that it still becomes past; one
        -- served without a start has no end either (it is neither past nor upcoming)
        case when events.scheduled_at is not null then coalesce(
            events.end_at,
            events.scheduled_at + to_minutes(events.duration_minutes),
            events.scheduled_at + to_minutes(coalesce(
                event_types.duration_minutes, events.event_type_duration_minutes_served
            )),
            events.scheduled_at
        ) end as scheduled_end_at,
        events.end_at is null
        and events.duration_minutes is null
        and event_types.duration_minutes is null
        and events.event_type_duration_minutes_served is null as length_unknown
    from events
    left join hosts_by_event
        on events.account = hosts_by_event.account
        and events.event_id = hosts_by_event.event_id
    left join host_timezones
        on hosts_by_event.account = host_timezones.account
        and hosts_by_event.primary_host_user_id = host_timezones.host_user_id
    left join event_types
        on events.account = event_types.account
        and events.event_type_id = event_types.event_type_id

),

user_policy_versions as (

    select * from cancellation_policies
    where policy_type = 'user'

),

organization_policy_versions as (

    select * from cancellation_policies
    where policy_type = 'organization'

),

earliest_user_policy as (

    select * from user_policy_versions
    qualify row_number() over (
        partition by account order by first_seen_at, policy_version
    ) = 1

),

earliest_organization_policy as (

    select * from organization_policy_versions
    qualify row_number() over (
        partition by account order by first_seen_at, policy_version
    ) = 1

),

cancellations as (

    select
        account,
        event_id,
        primary_host_user_id,
        scheduled_at,
        canceled_at
    from events_with_hosts
    where state = 'canceled'
        and canceled_at is not null

),

user_emails as (

    -- one row per e-mail: two users sharing one must not count a cancellation twice
    select distinct
        account,
        lower(regexp_replace(email, '^\s+|\s+$', '', 'g')) as email
    from users
    where email is not null

),

unknown_cancelers as (

    -- CancellationDTO.canceler is "The user of the cancellation.": a server may serve the
    -- person (an e-mail) where stg_events reads a side (`invitee`, `host`) from the words
    select
        account,
        event_id,
        lower(regexp_replace(canceler_raw, '^\s+|\s+$', '', 'g')) as canceler_email,
        lower(regexp_replace(invitee_email, '^\s+|\s+$', '', 'g')) as invitee_email
    from events_with_hosts
    where state = 'canceled'
        and canceled_by = 'unknown'

),

cancelers_by_email as (

    -- the booking's own invitee first (a user may book with their own e-mail), then any
    -- user of the organization: the host's side, whoever of it canceled
    select
        unknown_cancelers.account,
        unknown_cancelers.event_id,
        case
            when unknown_cancelers.canceler_email = unknown_cancelers.invitee_email
                then 'invitee'
            when user_emails.email is not null then 'host'
        end as canceled_by
    from unknown_cancelers
    left join user_emails
        on unknown_cancelers.account = user_emails.account
        and unknown_cancelers.canceler_email = user_emails.email

),

cancellations_with_policy_versions as (

    -- the version in force: the latest first seen at or before the cancellation, else the
    -- earliest known; the user policy is only known for the API key's owner
    select
        cancellations.account,
        cancellations.event_id,
        cancellations.scheduled_at,
        cancellations.canceled_at,
        exists (
            select 1 from api_key_owner
            where api_key_owner.account = cancellations.account
                and api_key_owner.user_id = cancellations.primary_host_user_id
        ) as is_api_key_owner,
        coalesce(user_in_force.policy_version, earliest_user_policy.policy_version)
            as user_policy_version,
        coalesce(
            organization_in_force.policy_version, earliest_organization_policy.policy_version
        ) as organization_policy_version
    from cancellations
    asof left join user_policy_versions as user_in_force
        on cancellations.account = user_in_force.account
        and cancellations.canceled_at >= user_in_force.first_seen_at
    asof left join organization_policy_versions as organization_in_force
        on cancellations.account = organization_in_force.account
        and cancellations.canceled_at >= organization_in_force.first_seen_at
    left join earliest_user_policy
        on cancellations.account = earliest_user_policy.account
    left join earliest_organization_policy
        on cancellations.account = earliest_organization_policy.account

),

cancellations_with_policy as (

    select
        versions.account,
        versions.event_id,
        versions.scheduled_at,
        versions.canceled_at,
        case
            when coalesce(organization_policy.is_enabled, false)
                and (
                    organization_policy.overwrites_personal
                    or user_policy.policy_version is null
                    or not user_policy.is_enabled
                )
                then 'organization'
            when coalesce(user_policy.is_enabled, false) then 'user'
        end as cancellation_policy_type,
        organization_policy.policy_version as organization_policy_version,
        organization_policy.period_minutes as organization_period_minutes,
        user_policy.policy_version as user_policy_version,
        user_policy.period_minutes as user_period_minutes
    from cancellations_with_policy_versions as versions
    left join organization_policy_versions as organization_policy
        on versions.account = organization_policy.account
        and versions.organization_policy_version = organization_policy.policy_version
    left join user_policy_versions as user_policy
        on versions.is_api_key_owner
        and versions.account = user_policy.account
        and versions.user_policy_version = user_policy.policy_version

),

cancellations_judged as (

    select
        account,
        event_id,
        cancellation_policy_type,
        case cancellation_policy_type
            when 'organization' then organization_policy_version
            when 'user' then user_policy_version
        end as cancellation_policy_version,
        case cancellation_policy_type
            when 'organization' then organization_period_minutes
            when 'user' then user_period_minutes
        end as cancellation_policy_period_minutes,
        case
            when cancellation_policy_type is null then false
            -- after the start is late under any policy; otherwise inside the policy period
            else canceled_at > scheduled_at - to_minutes(
                coalesce(
                    case cancellation_policy_type
                        when 'organization' then organization_period_minutes
                        when 'user' then user_period_minutes
                    end,
                    0
                )
            )
        end as is_late_by_policy
    from cancellations_with_policy

),

final as (

    select
        -- ids
        events.account,
        events.event_id,
        events.event_uuid,
        events.primary_host_user_id as host_user_id,
        events.host_user_ids,
        events.event_type_id,
        events.invitee_id,

        -- strings: the lists' names, else as the booking embeds them (a host who left, a
        -- type deleted upstream)
        coalesce(hosts.full_name, events.primary_host_full_name_served) as host_full_name,
        coalesce(hosts.email, events.primary_host_email_served) as host_email,
        events.host_timezone,
        coalesce(event_types.timezone, events.event_type_timezone_served)
            as event_type_timezone,
        coalesce(event_types.event_type_name, events.event_type_name_served)
            as event_type_name,
        coalesce(event_types.event_type_kind, events.event_type_kind_served)
            as event_type_kind,
        events.invitee_email,
        events.invitee_full_name,
        events.state_raw,
        events.state as final_state,
        case
            when events.state = 'canceled'
                then coalesce(cancelers_by_email.canceled_by, events.canceled_by, 'unknown')
        end as canceled_by,
        case when events.state = 'canceled' then events.cancellation_reason end
            as cancellation_reason,
        case
            when events.state = 'canceled' then coalesce(buckets.lead_time_bucket, 'unknown')
        end as cancellation_lead_time_bucket,
        cancellations_judged.cancellation_policy_type,
        dayname(cast(timezone(events.host_timezone, events.scheduled_at) as date))
            as scheduled_weekday_local,

        -- numerics
        events.host_count,
        -- unknown, not zero, where nothing gives the booking a length (its end is its start)
        case
            when not events.length_unknown
                then coalesce(
                    (epoch(events.scheduled_end_at) - epoch(events.scheduled_at)) / 60.0,
                    events.duration_minutes
                )
        end as duration_minutes,
        (epoch(events.scheduled_at) - epoch(events.created_at)) / 60.0
            as booking_lead_time_minutes,
        case
            when events.state = 'canceled'
                then (epoch(events.scheduled_at) - epoch(events.canceled_at)) / 60.0
        end as cancellation_lead_time_minutes,
        cancellations_judged.cancellation_policy_version,
        cancellations_judged.cancellation_policy_period_minutes,
        coalesce(reschedules_by_event.reschedule_count, 0) as reschedule_count,
        coalesce(participants_by_event.participant_count, 0) as participant_count,
        isodow(cast(timezone(events.host_timezone, events.scheduled_at) as date))
            as scheduled_iso_weekday_local,

        -- booleans
        events.state = 'canceled' as is_canceled,
        events.state = 'no_show' as is_no_show,
        case
            when events.state = 'canceled'
                then coalesce(cancellations_judged.is_late_by_policy, false)
        end as is_late_cancellation,
        coalesce(reschedules_by_event.reschedule_count, 0) > 0 as is_rescheduled,
        coalesce(events.scheduled_end_at <= as_of.as_of, false) as is_past,

        -- dates (the primary host's local calendar)
        cast(timezone(events.host_timezone, events.scheduled_at) as date)
            as scheduled_date_local,
        cast(
            date_trunc('week', cast(timezone(events.host_timezone, events.scheduled_at) as date))
            as date
        ) as scheduled_week_local,
        cast(
            date_trunc('month', cast(timezone(events.host_timezone, events.scheduled_at) as date))
            as date
        ) as scheduled_month_local,
        -- once per booking here, not per read: the KPI marts count bookings by it
        cast(timezone(events.host_timezone, events.created_at) as date) as created_date_local,

        -- local timestamps (wall-clock time in host_timezone, no offset)
        timezone(events.host_timezone, events.scheduled_at) as scheduled_at_local,
        timezone(events.host_timezone, events.scheduled_end_at) as scheduled_end_at_local,

        -- timestamps (UTC)
        events.created_at,
        events.scheduled_at,
        events.scheduled_end_at,
        events.canceled_at,
        reschedules_by_event.first_scheduled_at,
        as_of.as_of

    from events_with_hosts as events
    cross join as_of
    left join users as hosts
        on events.account = hosts.account
        and events.primary_host_user_id = hosts.user_id
    left join event_types
        on events.account = event_types.account
        and events.event_type_id = event_types.event_type_id
    left join reschedules_by_event
        on events.account = reschedules_by_event.account
        and events.event_id = reschedules_by_event.event_id
    left join participants_by_event
        on events.account = participants_by_event.account
        and events.event_id = participants_by_event.event_id
    left join cancellations_judged
        on events.account = cancellations_judged.account
        and events.event_id = cancellations_judged.event_id
    left join cancelers_by_email
        on events.account = cancelers_by_email.account
        and events.event_id = cancelers_by_email.event_id
    left join lead_time_buckets as buckets
        on (epoch(events.scheduled_at) - epoch(events.canceled_at)) / 60.0
        >= buckets.min_lead_time_minutes
        and (epoch(events.scheduled_at) - epoch(events.canceled_at)) / 60.0
        < buckets.max_lead_time_minutes

)

select * from final
