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

    -- each interval counts in its own set and in the set of both kinds; duplicates are
    -- dropped (a union ignores them) so that (start_at, end_at) orders each partition totally
    -- and the two windows below see the same order
    select distinct
        account,
        scope,
        host_user_id,
        event_type_id,
        date_local,
        interval_kind as interval_set,
        start_at,
        end_at
    from scoped
    union
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

ordered as (

    select
        *,
        max(end_at) over (
            partition by account, scope, host_user_id, event_type_id, date_local, interval_set
            order by start_at, end_at
            rows between unbounded preceding and 1 preceding
        ) as previous_max_end_at
    from interval_sets

),

numbered as (

    select
        *,
        sum(
            case
                when previous_max_end_at is null or start_at > previous_max_end_at then 1
                else 0
            end
        ) over (
            partition by account, scope, host_user_id, event_type_id, date_local, interval_set
            order by start_at, end_at
            rows between unbounded preceding and current row
        ) as island_number
    from ordered

),

islands as (

    select
        account,
        scope,
        host_user_id,
        event_type_id,
        date_local,
        interval_set,
        (epoch(max(end_at)) - epoch(min(start_at))) / 60.0 as island_minutes
    from numbered
    group by account, scope, host_user_id, event_type_id, date_local, interval_set, island_number

),

minutes as (

    select
        account,
        scope,
        host_user_id,
        event_type_id,
        date_local,
        coalesce(sum(island_minutes) filter (where interval_set = 'booked'), 0)
            as booked_minutes,
        coalesce(sum(island_minutes) filter (where interval_set = 'offered'), 0)
            as offered_minutes,
        coalesce(sum(island_minutes) filter (where interval_set = 'any'), 0)
            as booked_or_offered_minutes
    from islands
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
