-- grain: one row per (account, host, event type, local calendar day) from the pair's first activity
-- (a booking or a snapshot day) to its last, extended to yesterday while the event type is
-- enabled; says where the day's offered minutes come from
-- materialized: table
with

host_bookings as (

    select * from analytics.int_host_bookings

),

event_types as not materialized (

    select * from analytics.stg_event_types

),

event_type_users as (

    select * from analytics.stg_event_type_users

),

users as (

    select * from analytics.stg_users

),

availability_days as not materialized (

    select * from analytics.stg_availability_days

),

as_of as (

    select * from analytics.int_as_of

),

pairs as (

    select
        account,
        owner_user_id as host_user_id,
        event_type_id
    from event_types
    where owner_user_id is not null
    union
    select
        account,
        user_id as host_user_id,
        event_type_id
    from event_type_users
    where user_id is not null
    union
    select
        account,
        host_user_id,
        event_type_id
    from host_bookings

),

pairs_with_timezone as (

    select
        pairs.account,
        pairs.host_user_id,
        pairs.event_type_id,
        coalesce(users.timezone, event_types.timezone, 'UTC') as host_timezone,
        coalesce(event_types.is_enabled, true) as is_event_type_enabled
    from pairs
    left join users
        on pairs.account = users.account
        and pairs.host_user_id = users.user_id
    left join event_types
        on pairs.account = event_types.account
        and pairs.event_type_id = event_types.event_type_id

),

booking_dates as (

    -- dated in the host's calendar by the same time zone rule as pairs_with_timezone
    select
        account,
        host_user_id,
        event_type_id,
        min(date_local) as first_booking_date,
        max(date_local) as last_booking_date
    from host_bookings
    where final_state in ('booked', 'no_show')
    group by account, host_user_id, event_type_id

),

snapshot_dates as (

    select
        account,
        event_type_id,
        min(available_date) as first_snapshot_date,
        max(available_date) as last_snapshot_date
    from availability_days
    where snapshot_date <= available_date
    group by account, event_type_id

),

pair_ranges as (

    select
        pairs_with_timezone.account,
        pairs_with_timezone.host_user_id,
        pairs_with_timezone.event_type_id,
        pairs_with_timezone.host_timezone,
        cast(timezone(pairs_with_timezone.host_timezone, as_of.as_of) as date)
            as as_of_date_local,
        least(booking_dates.first_booking_date, snapshot_dates.first_snapshot_date)
            as first_date,
        greatest(
            booking_dates.last_booking_date,
            snapshot_dates.last_snapshot_date,
            case
                when pairs_with_timezone.is_event_type_enabled
                    then cast(timezone(pairs_with_timezone.host_timezone, as_of.as_of) as date)
                    - 1
            end
        ) as last_date
    from pairs_with_timezone
    cross join as_of
    left join booking_dates
        on pairs_with_timezone.account = booking_dates.account
        and pairs_with_timezone.host_user_id = booking_dates.host_user_id
        and pairs_with_timezone.event_type_id = booking_dates.event_type_id
    left join snapshot_dates
        on pairs_with_timezone.account = snapshot_dates.account
        and pairs_with_timezone.event_type_id = snapshot_dates.event_type_id
    where booking_dates.first_booking_date is not null
        or snapshot_dates.first_snapshot_date is not null

),

spine as (

    select
        account,
        host_user_id,
        event_type_id,
        host_timezone,
        as_of_date_local,
        cast(unnest(generate_series(first_date, last_date, interval 1 day)) as date)
            as date_local
    from pair_ranges
    where first_date <= last_date

),

latest_snapshots as (

    -- the most recent snapshot taken on or before the day that lists the day
    select
        account,
        event_type_id,
        available_date,
        max(snapshot_date) as snapshot_date
    from availability_days
    where snapshot_date <= available_date
    group by account, event_type_id, available_date

),

final as (

    select
        spine.account,
        spine.host_user_id,
        spine.event_type_id,
        spine.date_local,
        spine.host_timezone,
        isodow(spine.date_local) as iso_weekday,
        dayname(spine.date_local) as weekday_name,
        cast(date_trunc('week', spine.date_local) as date) as week_start_local,
        case
            when latest_snapshots.snapshot_date is not null then 'snapshot'
            else 'working_hours'
        end as offered_minutes_source,
        latest_snapshots.snapshot_date,
        spine.date_local < spine.as_of_date_local as is_past_day
    from spine
    left join latest_snapshots
        on spine.account = latest_snapshots.account
        and spine.event_type_id = latest_snapshots.event_type_id
        and spine.date_local = latest_snapshots.available_date

)

select * from final
