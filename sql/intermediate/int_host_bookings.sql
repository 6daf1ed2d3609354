-- grain: one row per (booking, host) of every booking with an event type: the booking's state
-- and times, and its date in that host's calendar (int_host_timezones, else the event type's
-- as fct_events has it: from the list, else as the booking embeds it; else UTC). Utilization reads bookings here, so a refresh converts only the changed
-- bookings' times, not a million of them in two models.
-- materialized: table
with

events as (

    select * from analytics.fct_events

),

event_hosts as (

    select * from analytics.int_event_hosts

),

host_timezones as (

    select * from analytics.int_host_timezones

),

with_timezone as (

    select
        event_hosts.account,
        event_hosts.event_id,
        event_hosts.host_user_id,
        events.event_type_id,
        events.final_state,
        coalesce(host_timezones.timezone, events.event_type_timezone, 'UTC') as host_timezone,
        events.scheduled_at,
        events.scheduled_end_at
    from events
    inner join event_hosts
        on events.account = event_hosts.account
        and events.event_id = event_hosts.event_id
    left join host_timezones
        on event_hosts.account = host_timezones.account
        and event_hosts.host_user_id = host_timezones.host_user_id
    where events.event_type_id is not null

),

final as (

    select
        account,
        event_id,
        host_user_id,
        event_type_id,
        final_state,
        host_timezone,
        cast(timezone(host_timezone, scheduled_at) as date) as date_local,
        scheduled_at,
        scheduled_end_at
    from with_timezone

)

select * from final
