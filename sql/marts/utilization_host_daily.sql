-- grain: one row per (host, host-local calendar day), across all the host's event types
-- materialized: table
-- Minutes are unions over the host's event types (time offered by two event types counts
-- once); offered_minutes_source is 'mixed' when the types' days used different sources.
with

days as (

    select * from analytics.int_utilization_day_minutes
    where scope = 'host'

),

users as (

    select * from analytics.stg_users

),

final as (

    select
        days.account,
        days.host_user_id,
        users.full_name as host_full_name,
        days.date_local,
        days.week_start_local,
        days.iso_weekday,
        days.weekday_name,
        days.host_timezone,
        days.offered_minutes_source,
        days.event_types,
        days.is_past_day,
        days.booked_minutes,
        days.offered_minutes,
        days.booked_in_offered_minutes,
        days.booked_outside_offered_minutes,
        days.utilization
    from days
    left join users
        on days.account = users.account
        and days.host_user_id = users.user_id

)

select * from final
