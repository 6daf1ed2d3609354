-- grain: one row per (account, host, event type, local calendar day) from the pair's first activity
-- (a booking or a snapshot day) to its last, extended to yesterday, while the event type is
-- enabled; for a disabled type, the days of its bookings alone. Says where the day's offered
-- minutes come from: 'snapshot', 'working_hours', or 'disabled' (a disabled type offers
-- nothing; its bookings are booked time outside offered time)
-- materialized: table
-- A snapshot lists calendar days in the time zone it was asked in (the sync asks in UTC), so
-- a host's local day is covered by a snapshot only when the snapshot lists every part of it:
-- in Sydney, Monday starts at 14:00 UTC on Sunday, and a snapshot starting on the UTC date of
-- Monday does not say what Monday morning offered. And only when it was taken before the day
-- began: the endpoint shows the hours already past as unavailable, so a snapshot taken at
-- 15:00 says nothing of what that day's morning offered.
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

host_zones as (

    select * from analytics.int_host_timezones

),

availability_days as (

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

booked_zones as (

    -- the zone the bookings of a pair are dated in: for a type deleted upstream, the one its
    -- bookings embed
    select
        account,
        host_user_id,
        event_type_id,
        min(host_timezone) as host_timezone
    from host_bookings
    group by account, host_user_id, event_type_id

),

pairs_with_timezone as (

    select
        pairs.account,
        pairs.host_user_id,
        pairs.event_type_id,
        coalesce(
            host_zones.timezone, event_types.timezone, booked_zones.host_timezone, 'UTC'
        ) as host_timezone,
        -- is_enabled is landed a boolean whatever the server spelled (0/1, "0"/"1");
        -- an event type the warehouse does not know is taken as enabled
        coalesce(event_types.is_enabled, true) as is_event_type_enabled
    from pairs
    left join host_zones
        on pairs.account = host_zones.account
        and pairs.host_user_id = host_zones.host_user_id
    left join event_types
        on pairs.account = event_types.account
        and pairs.event_type_id = event_types.event_type_id
    left join booked_zones
        on pairs.account = booked_zones.account
        and pairs.host_user_id = booked_zones.host_user_id
        and pairs.event_type_id = booked_zones.event_type_id

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

host_timezones as (

    -- the time zones of the hosts of enabled event types: a disabled type's snapshots cover
    -- no day
    select distinct
        account,
        event_type_id,
        host_timezone
    from pairs_with_timezone
    where is_event_type_enabled

),

listed_days as (

    -- each day a snapshot taken on or before it lists, as the span of time it is in the
    -- snapshot's time zone (UTC where none was recorded), and when the snapshot was taken
    -- (the start of the sync that read it)
    select
        account,
        event_type_id,
        snapshot_date,
        synced_at as taken_at,
        timezone(coalesce(snapshot_timezone, 'UTC'), cast(available_date as timestamp))
            as listed_from,
        timezone(
            coalesce(snapshot_timezone, 'UTC'), cast(available_date as timestamp) + interval 1 day
        ) as listed_until
    from availability_days
    where snapshot_date <= available_date

),

listed_local_days as (

    -- the host-local days each listed day overlaps (one or two)
    select
        listed_days.account,
        listed_days.event_type_id,
        host_timezones.host_timezone,
        listed_days.snapshot_date,
        listed_days.taken_at,
        listed_days.listed_from,
        listed_days.listed_until,
        cast(unnest(generate_series(
            cast(timezone(host_timezones.host_timezone, listed_days.listed_from) as date),
            cast(
                timezone(
                    host_timezones.host_timezone, listed_days.listed_until - interval 1 microsecond
                ) as date
            ),
            interval 1 day
        )) as date) as date_local
    from listed_days
    inner join host_timezones
        on listed_days.account = host_timezones.account
        and listed_days.event_type_id = host_timezones.event_type_id

),

snapshot_local_days as (

    -- the host-local days a snapshot covers from their first moment to their last, taken
    -- before the day began (so no hour of it was already past). Time zones differ by less
    -- than a day, so a local day overlaps at most two listed days, adjacent ones: covering
    -- both of its ends is covering all of it
    select
        account,
        event_type_id,
        host_timezone,
        date_local,
        snapshot_date
    from listed_local_days
    group by account, event_type_id, host_timezone, date_local, snapshot_date
    having min(listed_from) <= timezone(host_timezone, cast(date_local as timestamp))
        and max(listed_until)
        >= timezone(host_timezone, cast(date_local as timestamp) + interval 1 day)
        and max(taken_at) <= timezone(host_timezone, cast(date_local as timestamp))

),

snapshot_dates as (

    select
        account,
        event_type_id,
        host_timezone,
        min(date_local) as first_snapshot_date,
        max(date_local) as last_snapshot_date
    from snapshot_local_days
    group by account, event_type_id, host_timezone

),

pair_ranges as (

    -- the days of an enabled event type's pairs
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
            cast(timezone(pairs_with_timezone.host_timezone, as_of.as_of) as date) - 1
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
        and pairs_with_timezone.host_timezone = snapshot_dates.host_timezone
    where pairs_with_timezone.is_event_type_enabled
        and (
            booking_dates.first_booking_date is not null
            or snapshot_dates.first_snapshot_date is not null
        )

),

disabled_booked_days as (

    -- a disabled event type offers nothing: its only days are those of its bookings, so
    -- they are counted as booked (outside offered time)
    select distinct
        host_bookings.account,
        host_bookings.host_user_id,
        host_bookings.event_type_id,
        pairs_with_timezone.host_timezone,
        cast(timezone(pairs_with_timezone.host_timezone, as_of.as_of) as date)
            as as_of_date_local,
        host_bookings.date_local
    from host_bookings
    inner join pairs_with_timezone
        on host_bookings.account = pairs_with_timezone.account
        and host_bookings.host_user_id = pairs_with_timezone.host_user_id
        and host_bookings.event_type_id = pairs_with_timezone.event_type_id
    cross join as_of
    where not pairs_with_timezone.is_event_type_enabled
        and host_bookings.final_state in ('booked', 'no_show')

),

spine as (

    select
        account,
        host_user_id,
        event_type_id,
        host_timezone,
        as_of_date_local,
        true as is_event_type_enabled,
        cast(unnest(generate_series(first_date, last_date, interval 1 day)) as date)
            as date_local
    from pair_ranges
    where first_date <= last_date
    union all
    select
        account,
        host_user_id,
        event_type_id,
        host_timezone,
        as_of_date_local,
        false as is_event_type_enabled,
        date_local
    from disabled_booked_days

),

latest_snapshots as (

    -- the most recent snapshot taken on or before the day that covers the day
    select
        account,
        event_type_id,
        host_timezone,
        date_local,
        max(snapshot_date) as snapshot_date
    from snapshot_local_days
    group by account, event_type_id, host_timezone, date_local

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
            when not spine.is_event_type_enabled then 'disabled'
            when latest_snapshots.snapshot_date is not null then 'snapshot'
            else 'working_hours'
        end as offered_minutes_source,
        latest_snapshots.snapshot_date,
        spine.date_local < spine.as_of_date_local as is_past_day
    from spine
    left join latest_snapshots
        on spine.account = latest_snapshots.account
        and spine.event_type_id = latest_snapshots.event_type_id
        and spine.host_timezone = latest_snapshots.host_timezone
        and spine.date_local = latest_snapshots.date_local

)

select * from final
