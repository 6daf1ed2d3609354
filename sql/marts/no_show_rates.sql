-- grain: one row per breakdown value: overall, host, event type, local week, local month
-- materialized: table
-- no_show_rate = no_shows / eligible_bookings, where eligible bookings are past bookings
-- that were not canceled and whose state is known; 95% Wilson score interval.
with

users as (

    select * from analytics.stg_users

),

event_types as (

    select * from analytics.stg_event_types

),

cells as (

    -- past bookings only: a cell of future bookings alone is no row of this mart
    select * from analytics.int_booking_counts
    where past_bookings > 0

),

counts as (

    select
        case
            when grouping(host_user_id) = 0 then 'host'
            when grouping(event_type_id) = 0 then 'event_type'
            when grouping(scheduled_week_local) = 0 then 'week'
            when grouping(scheduled_month_local) = 0 then 'month'
            else 'overall'
        end as breakdown,
        account,
        host_user_id,
        event_type_id,
        scheduled_week_local as week_start_local,
        scheduled_month_local as month_start_local,
        cast(sum(past_bookings) as bigint) as past_bookings,
        cast(sum(canceled_bookings) as bigint) as canceled_bookings,
        cast(sum(unknown_state_bookings) as bigint) as unknown_state_bookings,
        cast(sum(eligible_bookings) as bigint) as eligible_bookings,
        cast(sum(no_shows) as bigint) as no_shows
    from cells
    group by grouping sets (
        (account),
        (account, host_user_id),
        (account, event_type_id),
        (account, scheduled_week_local),
        (account, scheduled_month_local)
    )

),

with_wilson as (

    -- Wilson score interval, z = 1.959963984540054 (two-sided 95%)
    select
        *,
        no_shows / nullif(eligible_bookings, 0) as p,
        1.959963984540054 ^ 2 / nullif(eligible_bookings, 0) as z2_over_n
    from counts

),

final as (

    select
        with_wilson.account,
        with_wilson.breakdown,
        with_wilson.host_user_id,
        users.full_name as host_full_name,
        with_wilson.event_type_id,
        event_types.event_type_name,
        -- names repeat across hosts ("Intro call"): the owner tells two event types apart
        event_types.owner_user_id as event_type_owner_user_id,
        owners.full_name as event_type_owner_full_name,
        with_wilson.week_start_local,
        with_wilson.month_start_local,
        with_wilson.past_bookings,
        with_wilson.canceled_bookings,
        with_wilson.unknown_state_bookings,
        with_wilson.eligible_bookings,
        with_wilson.no_shows,
        with_wilson.p as no_show_rate,
        -- clamped: at p = 0 or 1 the bound is 0 or 1 exactly, but floating point can miss
        -- greatest() and least() skip a null argument: with no rate (nothing to rate)
        -- they gave [0, 1]; the interval is null with the rate
        case when with_wilson.p is not null then
            greatest(
                0.0,
                (
                    with_wilson.p + with_wilson.z2_over_n / 2
                    - 1.959963984540054 * sqrt(
                        with_wilson.p * (1 - with_wilson.p) / with_wilson.eligible_bookings
                        + with_wilson.z2_over_n / (4 * with_wilson.eligible_bookings)
                    )
                ) / (1 + with_wilson.z2_over_n)
            )
        end as no_show_rate_ci_low,
        case when with_wilson.p is not null then
            least(
                1.0,
                (
                    with_wilson.p + with_wilson.z2_over_n / 2
                    + 1.959963984540054 * sqrt(
                        with_wilson.p * (1 - with_wilson.p) / with_wilson.eligible_bookings
                        + with_wilson.z2_over_n / (4 * with_wilson.eligible_bookings)
                    )
                ) / (1 + with_wilson.z2_over_n)
            )
        end as no_show_rate_ci_high
    from with_wilson
    left join users
        on with_wilson.account = users.account
        and with_wilson.host_user_id = users.user_id
    left join event_types
        on with_wilson.account = event_types.account
        and with_wilson.event_type_id = event_types.event_type_id
    left join users as owners
        on event_types.account = owners.account
        and event_types.owner_user_id = owners.user_id

)

select * from final
