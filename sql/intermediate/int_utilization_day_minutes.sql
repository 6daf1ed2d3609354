-- grain: one row per (scope, host, event type or null for all of the host's types, local day):
-- the day's calendar attributes, where its offered time came from, and its minutes
-- materialized: table
-- Every utilization roll-up (daily, weekly, weekday; per event type or per host) reads this
-- one model, so a day means the same thing at every grain. Scope 'event_type' has one row
-- per (host, event type, day); scope 'host' the union across the host's event types, with
-- offered_minutes_source 'mixed' when the types' days used different sources.
with

days as (

    select * from analytics.int_utilization_days

),

minutes as (

    select * from analytics.int_utilization_minutes

),

event_type_days as (

    select
        account,
        'event_type' as scope,
        host_user_id,
        event_type_id,
        date_local,
        week_start_local,
        iso_weekday,
        weekday_name,
        host_timezone,
        offered_minutes_source,
        snapshot_date,
        1 as event_types,
        is_past_day
    from days

),

host_days as (

    select
        account,
        'host' as scope,
        host_user_id,
        null::bigint as event_type_id,
        date_local,
        any_value(week_start_local) as week_start_local,
        any_value(iso_weekday) as iso_weekday,
        any_value(weekday_name) as weekday_name,
        any_value(host_timezone) as host_timezone,
        -- a disabled event type's days offer nothing and do not make the others mixed
        case
            when count(*) filter (where offered_minutes_source <> 'disabled') = 0
                then 'disabled'
            when min(offered_minutes_source) filter (where offered_minutes_source <> 'disabled')
                = max(offered_minutes_source) filter (where offered_minutes_source <> 'disabled')
                then min(offered_minutes_source) filter (where offered_minutes_source <> 'disabled')
            else 'mixed'
        end as offered_minutes_source,
        null::date as snapshot_date,
        count(*) as event_types,
        bool_and(is_past_day) as is_past_day
    from days
    group by account, host_user_id, date_local

),

scoped_days as (

    select * from event_type_days
    union all
    select * from host_days

),

final as (

    select
        scoped_days.*,
        coalesce(minutes.booked_minutes, 0) as booked_minutes,
        coalesce(minutes.offered_minutes, 0) as offered_minutes,
        coalesce(minutes.booked_in_offered_minutes, 0) as booked_in_offered_minutes,
        coalesce(minutes.booked_outside_offered_minutes, 0) as booked_outside_offered_minutes,
        minutes.booked_in_offered_minutes / nullif(minutes.offered_minutes, 0) as utilization
    from scoped_days
    left join minutes
        on scoped_days.account = minutes.account
        and scoped_days.scope = minutes.scope
        and scoped_days.host_user_id = minutes.host_user_id
        and scoped_days.event_type_id is not distinct from minutes.event_type_id
        and scoped_days.date_local = minutes.date_local

)

select * from final
