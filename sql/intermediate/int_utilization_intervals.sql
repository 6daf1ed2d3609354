-- grain: one row per distinct time interval offered or booked on a (host, event type, local
-- day): offered = available snapshot slots (plus the booked time on snapshot days, which the
-- endpoint shows as unavailable) or working hours; booked = non-canceled bookings. Bookings
-- of the same slot (a group meeting, a double booking) are one interval: minutes count time,
-- not bookings, and a million bookings fall to about a quarter as many intervals
-- materialized: table
with

days as (

    select * from analytics.int_utilization_days

),

bookings as (

    select * from analytics.int_host_bookings

),

event_types as (

    select * from analytics.stg_event_types

),

availability_slots as (

    select * from analytics.stg_availability_slots

),

working_hours as (

    select * from analytics.cfg_working_hours

),

snapshot_timezones as (

    select distinct
        account,
        event_type_id,
        host_timezone
    from days
    where offered_minutes_source = 'snapshot'

),

slots_by_local_day as (

    -- a slot counts on the host-local day of its start, not on the date the snapshot lists
    -- it under (a date in the zone it was asked in, UTC: Sydney's mornings and New York's
    -- evenings are on other UTC dates). Dated once per time zone of the event type's hosts,
    -- so the join below is on columns
    select
        availability_slots.account,
        availability_slots.event_type_id,
        availability_slots.snapshot_date,
        snapshot_timezones.host_timezone,
        cast(timezone(snapshot_timezones.host_timezone, availability_slots.start_at) as date)
            as date_local,
        availability_slots.start_at,
        availability_slots.duration_minutes
    from availability_slots
    inner join snapshot_timezones
        on availability_slots.account = snapshot_timezones.account
        and availability_slots.event_type_id = snapshot_timezones.event_type_id
    where availability_slots.is_available
        and availability_slots.start_at is not null

),

offered_by_snapshot as (

    select
        days.account,
        days.host_user_id,
        days.event_type_id,
        days.date_local,
        'offered' as interval_kind,
        slots.start_at,
        slots.start_at
        + to_minutes(coalesce(slots.duration_minutes, event_types.duration_minutes, 0))
            as end_at
    from days
    inner join slots_by_local_day as slots
        on days.account = slots.account
        and days.event_type_id = slots.event_type_id
        and days.snapshot_date = slots.snapshot_date
        and days.host_timezone = slots.host_timezone
        and days.date_local = slots.date_local
    left join event_types
        on days.account = event_types.account
        and days.event_type_id = event_types.event_type_id
    where days.offered_minutes_source = 'snapshot'

),

offered_by_working_hours as (

    select
        days.account,
        days.host_user_id,
        days.event_type_id,
        days.date_local,
        'offered' as interval_kind,
        timezone(days.host_timezone, days.date_local + working_hours.start_time) as start_at,
        timezone(days.host_timezone, days.date_local + working_hours.end_time) as end_at
    from days
    inner join working_hours
        on days.iso_weekday = working_hours.iso_weekday
    where days.offered_minutes_source = 'working_hours'

),

host_bookings as materialized (

    -- each booking once per host, dated in that host's calendar (int_host_bookings uses the
    -- days' time zone rule); a slot booked several times is one interval. Computed on its
    -- own, so the join with days below is on four plain columns: PostgreSQL once joined days
    -- with the hosts' bookings on (account, host) alone, before the date (the disk filled at 1M)
    select distinct
        account,
        host_user_id,
        event_type_id,
        date_local,
        scheduled_at as start_at,
        scheduled_end_at as end_at
    from bookings
    where final_state in ('booked', 'no_show')
        and scheduled_end_at > scheduled_at

),

booked as (

    select
        days.account,
        days.host_user_id,
        days.event_type_id,
        days.date_local,
        'booked' as interval_kind,
        days.offered_minutes_source,
        host_bookings.start_at,
        host_bookings.end_at
    from host_bookings
    inner join days
        on host_bookings.account = days.account
        and host_bookings.host_user_id = days.host_user_id
        and host_bookings.event_type_id = days.event_type_id
        and host_bookings.date_local = days.date_local

),

booked_on_snapshot_days as (

    select
        account,
        host_user_id,
        event_type_id,
        date_local,
        'offered' as interval_kind,
        start_at,
        end_at
    from booked
    where offered_minutes_source = 'snapshot'

),

unioned as (

    select * from offered_by_snapshot
    union all
    select * from offered_by_working_hours
    union all
    select * from booked_on_snapshot_days
    union all
    select
        account,
        host_user_id,
        event_type_id,
        date_local,
        interval_kind,
        start_at,
        end_at
    from booked

)

select distinct * from unioned
where end_at > start_at
