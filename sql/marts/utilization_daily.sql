-- grain: one row per (host, event type, host-local calendar day)
-- materialized: table
-- utilization = booked_in_offered_minutes / offered_minutes; offered minutes come from the
-- availability snapshot covering the day, else from config.toml working hours, none for a
-- disabled event type
-- (offered_minutes_source); bookings outside working hours are booked_outside_offered_minutes.
with

days as (

    select * from analytics.int_utilization_day_minutes
    where scope = 'event_type'

),

users as (

    select * from analytics.stg_users

),

event_types as (

    select * from analytics.stg_event_types

),

final as (

    select
        days.account,
        days.host_user_id,
        users.full_name as host_full_name,
        days.event_type_id,
        event_types.event_type_name,
        days.date_local,
        days.week_start_local,
        days.iso_weekday,
        days.weekday_name,
        days.host_timezone,
        days.offered_minutes_source,
        days.snapshot_date,
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
    left join event_types
        on days.account = event_types.account
        and days.event_type_id = event_types.event_type_id

)

select * from final
