-- grain: one row per (account, cancellation lead-time bucket) (minutes from cancellation to the start)
-- materialized: table
-- Every canceled booking, past or upcoming (not deleted upstream). The lead time is taken
-- from the history when the sync saw the booking change to canceled (`from_history`: against
-- the start in force just before), else from the cancellation time the API gives
-- (`from_canceled_at`: bookings first seen already canceled), else it is unknown.
with

history as not materialized (

    select * from analytics.event_history

),

transitions as (

    select * from analytics.event_state_transitions

),

buckets as not materialized (

    select * from analytics.int_lead_time_buckets

),

users as (

    select * from analytics.stg_users

),

accounts as (

    -- every account with a booking or a user: an organization synced with no booking yet
    -- reads every bucket at 0, as kpi_summary reads it
    select account from history
    union
    select account from users

),

canceled_now as (

    select * from history
    where is_current and state = 'canceled' and not is_deleted

),

last_cancellation_seen as (

    select
        account,
        event_id,
        lead_time_minutes
    from transitions
    where to_state = 'canceled' and from_state <> 'canceled'
    qualify row_number() over (partition by account, event_id order by version_number desc) = 1

),

cancellations as (

    select
        canceled_now.account,
        canceled_now.event_id,
        case
            when last_cancellation_seen.event_id is not null then 'from_history'
            when canceled_now.canceled_at is not null then 'from_canceled_at'
            else 'unknown'
        end as lead_time_source,
        coalesce(
            last_cancellation_seen.lead_time_minutes,
            (epoch(canceled_now.scheduled_at) - epoch(canceled_now.canceled_at)) / 60.0
        ) as lead_time_minutes
    from canceled_now
    left join last_cancellation_seen
        on canceled_now.account = last_cancellation_seen.account
        and canceled_now.event_id = last_cancellation_seen.event_id

),

bucketed as (

    select
        cancellations.*,
        coalesce(buckets.lead_time_bucket, 'unknown') as lead_time_bucket
    from cancellations
    left join buckets
        on cancellations.lead_time_minutes >= buckets.min_lead_time_minutes
        and cancellations.lead_time_minutes < buckets.max_lead_time_minutes

),

counts as (

    select
        accounts.account,
        buckets.lead_time_bucket,
        buckets.lead_time_bucket_label,
        buckets.lead_time_bucket_order,
        count(bucketed.event_id) as canceled_bookings,
        count(bucketed.event_id) filter (
            where bucketed.lead_time_source = 'from_history'
        ) as seen_in_history,
        count(bucketed.event_id) filter (
            where bucketed.lead_time_source = 'from_canceled_at'
        ) as first_seen_canceled,
        median(bucketed.lead_time_minutes) as median_lead_time_minutes
    from accounts
    cross join buckets
    left join bucketed
        on accounts.account = bucketed.account
        and buckets.lead_time_bucket = bucketed.lead_time_bucket
    group by all

),

final as (

    select
        account,
        lead_time_bucket,
        lead_time_bucket_label,
        lead_time_bucket_order,
        canceled_bookings,
        seen_in_history,
        first_seen_canceled,
        median_lead_time_minutes,
        canceled_bookings
        / nullif(sum(canceled_bookings) over (partition by account), 0)
            as share_of_cancellations,
        sum(canceled_bookings) over (partition by account order by lead_time_bucket_order)
        / nullif(sum(canceled_bookings) over (partition by account), 0) as cumulative_share
    from counts

)

select * from final
order by account, lead_time_bucket_order
