-- grain: one row per (scope, host, event type or null for all of the host's types, local
-- day): minutes in the union of booked intervals, of offered intervals, and their overlap
-- (overlapping intervals count once: a group meeting booked three times is booked once)
-- materialized: table
with

intervals as (

    select * from analytics.int_utilization_intervals

),

scoped as (

    -- per (host, event type), and per host across all its event types
    select
        account,
        'event_type' as scope,
        host_user_id,
        event_type_id,
        date_local,
        interval_kind,
        start_at,
        end_at
    from intervals
    union all
    select
        account,
        'host' as scope,
        host_user_id,
        null as event_type_id,
        date_local,
        interval_kind,
        start_at,
        end_at
    from intervals

),

interval_sets as (

    -- each interval counts in its own set and in the set of both kinds
    select
        account,
        scope,
        host_user_id,
        event_type_id,
        date_local,
        interval_kind as interval_set,
        start_at,
        end_at
    from scoped
    union all
    select
        account,
        scope,
        host_user_id,
        event_type_id,
        date_local,
        'any' as interval_set,
        start_at,
        end_at
    from scoped

),

covered as (

    -- the latest end among the intervals of the set that start earlier (ties in any order)
    select
        *,
        max(end_at) over (
            partition by account, scope, host_user_id, event_type_id, date_local, interval_set
            order by start_at
            rows between unbounded preceding and 1 preceding
        ) as covered_until
    from interval_sets

),

newly_covered as (

    -- the part of each interval that no earlier-starting interval covers; the parts add up
    -- to the length of the union, whatever the order of intervals that start together
    select
        *,
        greatest(
            0,
            epoch(end_at) - epoch(greatest(start_at, coalesce(covered_until, start_at)))
        ) as new_seconds
    from covered

),

minutes as (

    select
        account,
        scope,
        host_user_id,
        event_type_id,
        date_local,
        coalesce(sum(new_seconds) filter (where interval_set = 'booked'), 0) / 60.0
            as booked_minutes,
        coalesce(sum(new_seconds) filter (where interval_set = 'offered'), 0) / 60.0
            as offered_minutes,
        coalesce(sum(new_seconds) filter (where interval_set = 'any'), 0) / 60.0
            as booked_or_offered_minutes
    from newly_covered
    group by account, scope, host_user_id, event_type_id, date_local

),

final as (

    -- |booked ∩ offered| = |booked| + |offered| - |booked ∪ offered|
    select
        account,
        scope,
        host_user_id,
        event_type_id,
        date_local,
        booked_minutes,
        offered_minutes,
        booked_minutes + offered_minutes - booked_or_offered_minutes
            as booked_in_offered_minutes
    from minutes

)

select * from final
