-- grain: one row per account, period grain (week, month, all), breakdown (overall, host,
-- event type), period (host-local start) and metric (created, completed, rescheduled, canceled, no_show)
-- materialized: table
-- Rates are over past bookings scheduled in the period (no_show: past, not canceled, known
-- state, as in no_show_rates); `created` counts bookings by their creation date. Each row
-- carries the prior period's figures, the change, and a two-proportion z-test of the change.
with

events as (

    select * from analytics.fct_events

),

users as (

    select * from analytics.stg_users

),

event_types as (

    select * from analytics.stg_event_types

),

as_of as (

    select * from analytics.int_as_of

),

booking_counts as (

    select * from analytics.int_booking_counts

),

outcomes_by_period as (

    -- each cell once per period grain, by its bookings' scheduled start in the host's calendar
    -- (a booking served without a start is in no week or month, only in the whole)
    select 'week' as period_grain, scheduled_week_local as period_start_local, *
    from booking_counts
    where scheduled_week_local is not null
    union all by name
    select 'month' as period_grain, scheduled_month_local as period_start_local, *
    from booking_counts
    where scheduled_month_local is not null
    union all by name
    select 'all' as period_grain, null::date as period_start_local, *
    from booking_counts

),

created_cells as (

    -- bookings by the day they were created in the host's calendar
    select
        account,
        host_user_id,
        event_type_id,
        created_date_local,
        count(*) as created_bookings
    from events
    where created_at is not null
    group by account, host_user_id, event_type_id, created_date_local

),

created_by_period as (

    -- each cell once per period grain
    select
        periods.period_grain,
        case periods.period_grain
            when 'week' then cast(date_trunc('week', created_cells.created_date_local) as date)
            when 'month' then cast(date_trunc('month', created_cells.created_date_local) as date)
        end as period_start_local,
        created_cells.account,
        created_cells.host_user_id,
        created_cells.event_type_id,
        created_cells.created_bookings
    from created_cells
    cross join (values ('week'), ('month'), ('all')) as periods (period_grain)

),

outcome_counts as (

    select
        period_grain,
        case
            when grouping(host_user_id) = 0 then 'host'
            when grouping(event_type_id) = 0 then 'event_type'
            else 'overall'
        end as breakdown,
        account,
        host_user_id,
        event_type_id,
        period_start_local,
        cast(sum(past_bookings) as bigint) as past_bookings,
        cast(sum(completed_bookings) as bigint) as completed_bookings,
        cast(sum(rescheduled_bookings) as bigint) as rescheduled_bookings,
        cast(sum(canceled_bookings) as bigint) as canceled_bookings,
        cast(sum(eligible_bookings) as bigint) as eligible_bookings,
        cast(sum(no_shows) as bigint) as no_shows
    from outcomes_by_period
    group by grouping sets (
        (account, period_grain, period_start_local),
        (account, period_grain, period_start_local, host_user_id),
        (account, period_grain, period_start_local, event_type_id)
    )

),

created_counts as (

    select
        period_grain,
        case
            when grouping(host_user_id) = 0 then 'host'
            when grouping(event_type_id) = 0 then 'event_type'
            else 'overall'
        end as breakdown,
        account,
        host_user_id,
        event_type_id,
        period_start_local,
        cast(sum(created_bookings) as bigint) as created_bookings
    from created_by_period
    group by grouping sets (
        (account, period_grain, period_start_local),
        (account, period_grain, period_start_local, host_user_id),
        (account, period_grain, period_start_local, event_type_id)
    )

),

metrics as (

    select
        account,
        period_grain,
        breakdown,
        host_user_id,
        event_type_id,
        period_start_local,
        'created' as metric,
        created_bookings as numerator,
        null::bigint as denominator
    from created_counts
    union all
    select
        account,
        period_grain,
        breakdown,
        host_user_id,
        event_type_id,
        period_start_local,
        unpivoted.metric,
        unpivoted.numerator,
        unpivoted.denominator
    from outcome_counts
    cross join lateral (
        values
            ('completed', completed_bookings, past_bookings),
            ('rescheduled', rescheduled_bookings, past_bookings),
            ('canceled', canceled_bookings, past_bookings),
            ('no_show', no_shows, eligible_bookings)
    ) as unpivoted (metric, numerator, denominator)

),

with_prior as (

    select
        current_period.*,
        coalesce(prior_period.numerator, 0) as prior_numerator,
        case
            when current_period.denominator is not null
                then coalesce(prior_period.denominator, 0)
        end as prior_denominator,
        current_period.numerator / nullif(current_period.denominator, 0) as p,
        prior_period.numerator / nullif(prior_period.denominator, 0) as prior_p,
        1.959963984540054 ^ 2 / nullif(current_period.denominator, 0) as z2_over_n
    from metrics as current_period
    left join metrics as prior_period
        on current_period.account = prior_period.account
        and current_period.period_grain = prior_period.period_grain
        and current_period.metric = prior_period.metric
        and current_period.breakdown = prior_period.breakdown
        and current_period.host_user_id is not distinct from prior_period.host_user_id
        and current_period.event_type_id is not distinct from prior_period.event_type_id
        and prior_period.period_start_local = case current_period.period_grain
            when 'week' then cast(current_period.period_start_local - interval 7 day as date)
            when 'month' then cast(current_period.period_start_local - interval 1 month as date)
        end

),

with_test as (

    -- two-proportion z-test with the pooled proportion (see sql/README.md for why)
    select
        *,
        (numerator + prior_numerator)
        / nullif(denominator + prior_denominator, 0) as pooled_p
    from with_prior

),

final as (

    select
        with_test.account,
        with_test.period_grain,
        with_test.breakdown,
        with_test.host_user_id,
        users.full_name as host_full_name,
        with_test.event_type_id,
        event_types.event_type_name,
        with_test.period_start_local,
        case with_test.period_grain
            when 'week' then cast(with_test.period_start_local + interval 7 day as date)
            when 'month' then cast(with_test.period_start_local + interval 1 month as date)
        end as period_end_local,
        with_test.metric,
        case when with_test.denominator is null then 'count' else 'rate' end as unit,
        with_test.numerator,
        with_test.denominator,
        with_test.p as rate,
        -- greatest() and least() skip a null argument: with no rate (nothing to rate)
        -- they gave [0, 1]; the interval is null with the rate
        case when with_test.p is not null then
            greatest(
                0.0,
                (
                    with_test.p + with_test.z2_over_n / 2
                    - 1.959963984540054 * sqrt(
                        with_test.p * (1 - with_test.p) / with_test.denominator
                        + with_test.z2_over_n / (4 * with_test.denominator)
                    )
                ) / (1 + with_test.z2_over_n)
            )
        end as rate_ci_low,
        case when with_test.p is not null then
            least(
                1.0,
                (
                    with_test.p + with_test.z2_over_n / 2
                    + 1.959963984540054 * sqrt(
                        with_test.p * (1 - with_test.p) / with_test.denominator
                        + with_test.z2_over_n / (4 * with_test.denominator)
                    )
                ) / (1 + with_test.z2_over_n)
            )
        end as rate_ci_high,
        case when with_test.period_grain <> 'all' then with_test.prior_numerator end
            as prior_numerator,
        case when with_test.period_grain <> 'all' then with_test.prior_denominator end
            as prior_denominator,
        with_test.prior_p as prior_rate,
        case
            when with_test.period_grain = 'all' then null
            when with_test.denominator is null
                then with_test.numerator - with_test.prior_numerator
            else with_test.p - with_test.prior_p
        end as change,
        case
            when with_test.pooled_p > 0 and with_test.pooled_p < 1
                and with_test.denominator > 0 and with_test.prior_denominator > 0
                then (with_test.p - with_test.prior_p) / sqrt(
                    with_test.pooled_p * (1 - with_test.pooled_p)
                    * (1 / with_test.denominator + 1 / with_test.prior_denominator)
                )
        end as change_z,
        as_of.as_of
    from with_test
    cross join as_of
    left join users
        on with_test.account = users.account
        and with_test.host_user_id = users.user_id
    left join event_types
        on with_test.account = event_types.account
        and with_test.event_type_id = event_types.event_type_id

)

select
    *,
    -- two-sided 5%: the change is larger than chance would give this often
    coalesce(abs(change_z) >= 1.959963984540054, false) as is_significant_change
from final
