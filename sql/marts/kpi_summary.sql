-- grain: one row per (account, headline metric), with its numerator, denominator and
-- definition; the report and the notebooks read this model. Across accounts, a count is the
-- sum over accounts and a rate is sum(numerator) / sum(denominator).
-- materialized: table
with

events as (

    select * from analytics.fct_events

),

overall_no_show_rates as (

    -- no row for an account without past bookings (the mart rates only groups that have some)
    select * from analytics.no_show_rates
    where breakdown = 'overall'

),

overall_cancellation_rates as (

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

users as (

    select * from analytics.stg_users

),

accounts as (

    -- every account with a booking, a host-day or a user: each gets every headline row (an
    -- organization synced with no booking yet reads 0 bookings, its rates unrated)
    select account from events
    union
    select account from host_days
    union
    select account from users

),

booking_counts as (

    select
        accounts.account,
        count(events.account) as bookings,
        count(events.account) filter (where events.is_past) as past_bookings,
        -- a booking served without a start is neither past nor upcoming
        count(events.account) filter (
            where not events.is_past and events.scheduled_at is not null
        ) as upcoming_bookings,
        count(events.account) filter (where events.is_past and events.is_rescheduled)
            as rescheduled_past_bookings,
        count(events.account) filter (where events.final_state = 'unknown')
            as unknown_state_bookings
    from accounts
    left join events
        on accounts.account = events.account
    group by accounts.account

),

no_show_rates as (

    -- nothing to rate: numerator and denominator 0, the rate and its interval null
    select
        accounts.account,
        overall_no_show_rates.no_show_rate,
        coalesce(overall_no_show_rates.no_shows, 0) as no_shows,
        coalesce(overall_no_show_rates.eligible_bookings, 0) as eligible_bookings,
        overall_no_show_rates.no_show_rate_ci_low,
        overall_no_show_rates.no_show_rate_ci_high
    from accounts
    left join overall_no_show_rates
        on accounts.account = overall_no_show_rates.account

),

cancellation_rates as (

    select
        accounts.account,
        overall_cancellation_rates.cancellation_rate,
        overall_cancellation_rates.late_cancellation_share,
        overall_cancellation_rates.invitee_cancellation_share,
        coalesce(overall_cancellation_rates.past_bookings, 0) as past_bookings,
        coalesce(overall_cancellation_rates.canceled_bookings, 0) as canceled_bookings,
        coalesce(overall_cancellation_rates.late_cancellations, 0) as late_cancellations,
        coalesce(overall_cancellation_rates.canceled_by_invitee, 0) as canceled_by_invitee
    from accounts
    left join overall_cancellation_rates
        on accounts.account = overall_cancellation_rates.account

),

utilization as (

    select
        accounts.account,
        coalesce(sum(host_days.booked_in_offered_minutes), 0) as booked_in_offered_minutes,
        coalesce(sum(host_days.offered_minutes), 0) as offered_minutes,
        count(host_days.account) as host_days,
        count(host_days.account) filter (where host_days.offered_minutes_source = 'snapshot')
            as snapshot_host_days
    from accounts
    left join host_days
        on accounts.account = host_days.account
    group by accounts.account

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
        'Bookings not deleted upstream: past, upcoming, and any served without a start'
            as definition
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
        'Bookings in any state, canceled ones too, whose scheduled end is at or before as_of (the latest sync)'
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
        'Bookings in any state, canceled ones too, whose scheduled end is after as_of (still booked: upcoming_no_show_risk)'
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
