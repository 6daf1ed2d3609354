-- grain: one row per (host, host-local calendar day), across all the host's event types
-- materialized: table
-- Minutes are unions over the host's event types (time offered by two event types counts
-- once); offered_minutes_source is 'mixed' when the types' days used different sources.
with

days as (

    select * from analytics.int_utilization_days

),

minutes as (

    select * from analytics.int_utilization_minutes
    where scope = 'host'

),

users as (

    select * from analytics.stg_users

),

host_days as (

    select
        host_user_id,
        date_local,
        any_value(week_start_local) as week_start_local,
        any_value(iso_weekday) as iso_weekday,
        any_value(weekday_name) as weekday_name,
        any_value(host_timezone) as host_timezone,
        case
            when min(offered_minutes_source) = max(offered_minutes_source)
                then min(offered_minutes_source)
            else 'mixed'
        end as offered_minutes_source,
        count(*) as event_types,
        bool_and(is_past_day) as is_past_day
    from days
    group by host_user_id, date_local

),

final as (

    select
        host_days.host_user_id,
        users.full_name as host_full_name,
        host_days.date_local,
        host_days.week_start_local,
        host_days.iso_weekday,
        host_days.weekday_name,
        host_days.host_timezone,
        host_days.offered_minutes_source,
        host_days.event_types,
        host_days.is_past_day,
        coalesce(minutes.booked_minutes, 0) as booked_minutes,
        coalesce(minutes.offered_minutes, 0) as offered_minutes,
        coalesce(minutes.booked_in_offered_minutes, 0) as booked_in_offered_minutes,
        coalesce(minutes.booked_minutes, 0) - coalesce(minutes.booked_in_offered_minutes, 0)
            as booked_outside_offered_minutes,
        minutes.booked_in_offered_minutes / nullif(minutes.offered_minutes, 0) as utilization
    from host_days
    left join minutes
        on host_days.host_user_id = minutes.host_user_id
        and host_days.date_local = minutes.date_local
    left join users
        on host_days.host_user_id = users.user_id

)

select * from final
