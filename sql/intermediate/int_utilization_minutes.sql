-- grain: one row per (scope, host, event type or null for all of the host's types, local
-- day): minutes in the union of booked intervals, of offered intervals, their overlap, and
-- booked time outside offered time (overlapping intervals count once: a group meeting
-- booked three times is booked once)
-- materialized: table
-- Lengths are summed in whole microseconds (the timestamps' resolution) and turned into
-- minutes last: the overlap is |booked| + |offered| - |either|, and in minutes as floats that
-- difference left -1.4e-14 outside offered time for a booking starting at hh:mm:01. In
-- integers, inside + outside = booked exactly and neither is negative.
with

intervals as (

    select * from analytics.int_utilization_intervals

),

scoped as (

    -- per (host, event type), and per host across all its event types (scope 1, no type);
    -- sets: 0 booked, 1 offered (small integers keep the window's sort short)
    select
        account,
        0 as scope_code,
        host_user_id,
        event_type_id,
        date_local,
        case interval_kind when 'booked' then 0 else 1 end as set_code,
        start_at,
        end_at
    from intervals
    union all
    select
        account,
        1 as scope_code,
        host_user_id,
        null as event_type_id,
        date_local,
        case interval_kind when 'booked' then 0 else 1 end as set_code,
        start_at,
        end_at
    from intervals

),

covered as (

    -- per set, the latest end among its intervals that start earlier (ties in any order):
    -- booked, offered, and both kinds together, in one sort of the scope's intervals
    select
        *,
        max(end_at) filter (where set_code = 0) over earlier as booked_until,
        max(end_at) filter (where set_code = 1) over earlier as offered_until,
        max(end_at) over earlier as either_until
    from scoped
    window earlier as (
        partition by account, scope_code, host_user_id, event_type_id, date_local
        order by start_at
        rows between unbounded preceding and 1 preceding
    )

),

newly_covered as (

    -- the part of each interval that no earlier-starting interval of the same set covers
    -- starts at new_from; the parts add up to the length of the set's union, whatever the
    -- order of ties
    select
        *,
        greatest(
            start_at,
            coalesce(case set_code when 0 then booked_until else offered_until end, start_at)
        ) as new_from,
        greatest(start_at, coalesce(either_until, start_at)) as new_from_either
    from covered

),

new_lengths as (

    -- epoch() is a float of seconds, off by far less than half a microsecond: rounding the
    -- difference gives the exact count
    select
        *,
        greatest(0, cast(round(1000000 * (epoch(end_at) - epoch(new_from))) as bigint))
            as new_microseconds,
        greatest(0, cast(round(1000000 * (epoch(end_at) - epoch(new_from_either))) as bigint))
            as new_microseconds_either
    from newly_covered

),

microseconds as (

    select
        account,
        case scope_code when 0 then 'event_type' else 'host' end as scope,
        host_user_id,
        event_type_id,
        date_local,
        coalesce(sum(new_microseconds) filter (where set_code = 0), 0) as booked_microseconds,
        coalesce(sum(new_microseconds) filter (where set_code = 1), 0) as offered_microseconds,
        coalesce(sum(new_microseconds_either), 0) as booked_or_offered_microseconds
    from new_lengths
    group by account, scope_code, host_user_id, event_type_id, date_local

),

split as (

    -- |booked ∩ offered| = |booked| + |offered| - |booked ∪ offered|
    select
        *,
        booked_microseconds + offered_microseconds - booked_or_offered_microseconds
            as booked_in_offered_microseconds
    from microseconds

),

final as (

    select
        account,
        scope,
        host_user_id,
        event_type_id,
        date_local,
        booked_microseconds / 60000000.0 as booked_minutes,
        offered_microseconds / 60000000.0 as offered_minutes,
        booked_in_offered_microseconds / 60000000.0 as booked_in_offered_minutes,
        (booked_microseconds - booked_in_offered_microseconds) / 60000000.0
            as booked_outside_offered_minutes
    from split

)

select * from final
