-- grain: one row per (account, headline metric), with its numerator, denominator and
-- definition; the report and the notebooks read this model. Across accounts, a count is the
-- sum over accounts and a rate is sum(numerator) / sum(denominator).
-- materialized: table
with

events as (

    select * from analytics.fct_events

),

no_show_rates as (

    select * from analytics.no_show_rates
    where breakdown = 'overall'

),

cancellation_rates as (

    select * from analytics.cancellation_rates
    where breakdown = 'overall'

),

host_days as (

    select * from analytics.utilization_host_daily
    where is_past_day

),

as_of as (

    select * from analytics.int_as_of

),

booking_counts as (

    select
        account,
        count(*) as bookings,
        count(*) filter (where is_past) as past_bookings,
        count(*) filter (where not is_past) as upcoming_bookings,
        count(*) filter (where is_past and is_rescheduled) as rescheduled_past_bookings,
        count(*) filter (where final_state = 'unknown') as unknown_state_bookings
    from events
    group by account

),

utilization as (

    select
        account,
        sum(booked_in_offered_minutes) as booked_in_offered_minutes,
        sum(offered_minutes) as offered_minutes,
        count(*) as host_days,
        count(*) filter (where offered_minutes_source = 'snapshot') as snapshot_host_days
    from host_days
    group by account

),

metrics as (

    select
        account,
        1 as metric_order,
        'bookings' as metric,
        'Bookings' as label,
        'count' as unit,
        bookings::double as value,
        null::double as numerator,
        null::double as denominator,
        null::double as ci_low,
        null::double as ci_high,
        'Bookings not deleted upstream, past and upcoming' as definition
    from booking_counts
    union all
    select
        account,
        2,
        'past_bookings',
        'Past bookings',
        'count',
        past_bookings,
        null,
        null,
        null,
        null,
        'Bookings whose scheduled end is at or before as_of (the latest sync)'
    from booking_counts
    union all
    select
        account,
        3,
        'upcoming_bookings',
        'Upcoming bookings',
        'count',
        upcoming_bookings,
        null,
        null,
        null,
        null,
        'Bookings whose scheduled end is after as_of'
    from booking_counts
    union all
    select
        account,
        4,
        'no_show_rate',
        'No-show rate',
        'rate',
        no_show_rate,
        no_shows,
        eligible_bookings,
        no_show_rate_ci_low,
        no_show_rate_ci_high,
        'No-shows / past bookings not canceled (state known); 95% Wilson interval'
    from no_show_rates
    union all
    select
        account,
        5,
        'cancellation_rate',
        'Cancellation rate',
        'rate',
        cancellation_rate,
        canceled_bookings,
        past_bookings,
        null,
        null,
        'Canceled past bookings / past bookings'
    from cancellation_rates
    union all
    select
        account,
        6,
        'late_cancellation_share',
        'Late cancellations',
        'rate',
        late_cancellation_share,
        late_cancellations,
        canceled_bookings,
        null,
        null,
        'Canceled inside the policy period (or after start) / canceled past bookings'
    from cancellation_rates
    union all
    select
        account,
        7,
        'invitee_cancellation_share',
        'Canceled by invitee',
        'rate',
        invitee_cancellation_share,
        canceled_by_invitee,
        canceled_bookings,
        null,
        null,
        'Canceled by the invitee / canceled past bookings'
    from cancellation_rates
    union all
    select
        account,
        8,
        'reschedule_rate',
        'Rescheduled',
        'rate',
        rescheduled_past_bookings / nullif(past_bookings, 0),
        rescheduled_past_bookings,
        past_bookings,
        null,
        null,
        'Past bookings rescheduled at least once / past bookings'
    from booking_counts
    union all
    select
        account,
        9,
        'utilization',
        'Utilization',
        'rate',
        booked_in_offered_minutes / nullif(offered_minutes, 0),
        booked_in_offered_minutes,
        offered_minutes,
        null,
        null,
        'Booked minutes inside offered time / offered minutes, over past host-days'
    from utilization
    union all
    select
        account,
        10,
        'snapshot_day_share',
        'Offered minutes from snapshots',
        'rate',
        snapshot_host_days / nullif(host_days, 0),
        snapshot_host_days,
        host_days,
        null,
        null,
        'Past host-days whose offered minutes all came from availability snapshots '
        || '/ past host-days (the rest: config.toml working hours, or mixed)'
    from utilization
    union all
    select
        account,
        11,
        'unknown_state_bookings',
        'Bookings in an unknown state',
        'count',
        unknown_state_bookings,
        null,
        null,
        null,
        null,
        'Bookings whose state is not in the vocabulary: left out of no-show rates'
    from booking_counts

),

final as (

    select
        metrics.*,
        as_of.as_of
    from metrics
    cross join as_of

)

select * from final
order by account, metric_order
