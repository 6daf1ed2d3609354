-- grain: one row per upcoming booking (starts after as_of, not canceled)
-- materialized: table
-- no_show_risk: the past no-show rate of the booking's host × event type, shrunk towards the
-- account's rate by empirical Bayes (beta-binomial, method of moments), so a pair with
-- 3 past bookings is not judged on 3 bookings. Weekday and lead-time rates are shown beside
-- it for context; they do not enter the risk (see sql/README.md).
with

events as not materialized (

    select * from analytics.fct_events

),

as_of as (

    select * from analytics.int_as_of

),

events_with_lead_bucket as not materialized (

    select
        *,
        case
            when booking_lead_time_minutes is null then 'unknown'
            when booking_lead_time_minutes < 24 * 60 then 'under 1 day'
            when booking_lead_time_minutes < 7 * 24 * 60 then '1-7 days'
            else '7 days or more'
        end as booking_lead_time_bucket
    from events

),

history as (

    -- past bookings that could have been no-shows: not canceled, state known
    select * from events_with_lead_bucket
    where is_past and final_state in ('booked', 'no_show')

),

upcoming as (

    select events_with_lead_bucket.*
    from events_with_lead_bucket
    cross join as_of
    where events_with_lead_bucket.scheduled_at > as_of.as_of
        and events_with_lead_bucket.final_state = 'booked'

),

history_counts as materialized (

    -- one pass over the history: every rate below is a roll-up of these counts
    select
        account,
        host_user_id,
        event_type_id,
        scheduled_iso_weekday_local,
        booking_lead_time_bucket,
        count(*) as bookings,
        count(*) filter (where is_no_show) as no_shows
    from history
    group by all

),

overall as (

    select
        account,
        sum(bookings)::bigint as bookings,
        sum(no_shows)::bigint as no_shows,
        sum(no_shows) / nullif(sum(bookings), 0) as no_show_rate
    from history_counts
    group by account

),

pairs as (

    select
        account,
        host_user_id,
        event_type_id,
        sum(bookings)::bigint as bookings,
        sum(no_shows)::bigint as no_shows
    from history_counts
    group by account, host_user_id, event_type_id

),

prior_strength as (

    -- method of moments: the spread of pair rates beyond what binomial noise alone gives
    -- is the between-pair variance tau²; a beta prior with mean p0 and variance tau² has
    -- strength m = p0(1 − p0) / tau² − 1 pseudo-bookings (capped to [1, 1000]; no spread
    -- beyond noise means every pair gets the organization's rate: m = 1000)
    select
        overall.account,
        case
            when overall.no_show_rate is null
                or overall.no_show_rate in (0, 1) then 1000.0
            when tau2 <= 0 then 1000.0
            else least(
                1000.0,
                greatest(1.0, overall.no_show_rate * (1 - overall.no_show_rate) / tau2 - 1)
            )
        end as prior_strength
    from (
        select
            pairs.account,
            -- summed as decimals: floating-point addition is not associative, and the engine
            -- hands an aggregate its rows in whatever order its threads finish, so the same
            -- rows gave risks differing in their last bits from one build to the next (an
            -- ordered aggregate would do too, but BigQuery has none)
            (
                sum(
                    cast(
                        pairs.bookings
                        * (pairs.no_shows / pairs.bookings - overall.no_show_rate) ^ 2
                        as decimal(38, 9)
                    )
                )
                - count(*) * overall.no_show_rate * (1 - overall.no_show_rate)
            ) / nullif(sum(pairs.bookings), 0) as tau2
        from pairs
        inner join overall
            on pairs.account = overall.account
        group by pairs.account, overall.no_show_rate
    ) as spread
    right join overall
        on spread.account = overall.account

),

weekdays as (

    select
        account,
        scheduled_iso_weekday_local,
        sum(bookings)::bigint as bookings,
        sum(no_shows) / sum(bookings) as no_show_rate
    from history_counts
    group by account, scheduled_iso_weekday_local

),

lead_buckets as (

    select
        account,
        booking_lead_time_bucket,
        sum(bookings)::bigint as bookings,
        sum(no_shows) / sum(bookings) as no_show_rate
    from history_counts
    group by account, booking_lead_time_bucket

),

scored as (

    select
        upcoming.account,
        upcoming.event_id,
        upcoming.host_user_id,
        upcoming.host_full_name,
        upcoming.event_type_id,
        upcoming.event_type_name,
        upcoming.invitee_email,
        upcoming.scheduled_at,
        upcoming.scheduled_at_local,
        upcoming.scheduled_iso_weekday_local,
        upcoming.booking_lead_time_minutes,
        upcoming.booking_lead_time_bucket,
        coalesce(pairs.bookings, 0) as history_bookings,
        coalesce(pairs.no_shows, 0) as history_no_shows,
        pairs.no_shows / nullif(pairs.bookings, 0) as history_no_show_rate,
        1.959963984540054 ^ 2 / nullif(pairs.bookings, 0) as z2_over_n,
        overall.no_show_rate as overall_no_show_rate,
        prior_strength.prior_strength,
        (coalesce(pairs.no_shows, 0) + prior_strength.prior_strength * overall.no_show_rate)
        / (coalesce(pairs.bookings, 0) + prior_strength.prior_strength) as no_show_risk,
        weekdays.no_show_rate as weekday_no_show_rate,
        coalesce(weekdays.bookings, 0) as weekday_bookings,
        lead_buckets.no_show_rate as lead_time_no_show_rate,
        coalesce(lead_buckets.bookings, 0) as lead_time_bookings
    from upcoming
    -- left: an account with no past bookings has no rates, its upcoming ones are still listed
    left join overall
        on upcoming.account = overall.account
    left join prior_strength
        on upcoming.account = prior_strength.account
    left join pairs
        on upcoming.account = pairs.account
        and upcoming.host_user_id is not distinct from pairs.host_user_id
        and upcoming.event_type_id is not distinct from pairs.event_type_id
    left join weekdays
        on upcoming.account = weekdays.account
        and upcoming.scheduled_iso_weekday_local = weekdays.scheduled_iso_weekday_local
    left join lead_buckets
        on upcoming.account = lead_buckets.account
        and upcoming.booking_lead_time_bucket = lead_buckets.booking_lead_time_bucket

),

final as (

    select
        account,
        event_id,
        host_user_id,
        host_full_name,
        event_type_id,
        event_type_name,
        invitee_email,
        scheduled_at,
        scheduled_at_local,
        scheduled_iso_weekday_local,
        booking_lead_time_minutes,
        booking_lead_time_bucket,
        history_bookings,
        history_no_shows,
        history_no_show_rate,
        -- greatest() and least() skip a null argument: with no rate (nothing to rate)
        -- they gave [0, 1]; the interval is null with the rate
        case when history_no_show_rate is not null then
            greatest(
                0.0,
                (
                    history_no_show_rate + z2_over_n / 2
                    - 1.959963984540054 * sqrt(
                        history_no_show_rate * (1 - history_no_show_rate) / history_bookings
                        + z2_over_n / (4 * history_bookings)
                    )
                ) / (1 + z2_over_n)
            )
        end as history_no_show_rate_ci_low,
        case when history_no_show_rate is not null then
            least(
                1.0,
                (
                    history_no_show_rate + z2_over_n / 2
                    + 1.959963984540054 * sqrt(
                        history_no_show_rate * (1 - history_no_show_rate) / history_bookings
                        + z2_over_n / (4 * history_bookings)
                    )
                ) / (1 + z2_over_n)
            )
        end as history_no_show_rate_ci_high,
        overall_no_show_rate,
        prior_strength,
        no_show_risk,
        weekday_no_show_rate,
        weekday_bookings,
        lead_time_no_show_rate,
        lead_time_bookings,
        -- Risks equal to 9 decimals are a tie: the last bits of a sum depend on the order the
        -- engine adds in (DuckDB and PostgreSQL ranked two equal risks differently).
        row_number() over (
            partition by account
            order by cast(no_show_risk as decimal(18, 9)) desc nulls last, scheduled_at, event_id
        ) as risk_rank
    from scored

)

select * from final
