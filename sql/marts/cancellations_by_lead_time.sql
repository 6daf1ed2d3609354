-- grain: one row per (account, cancellation lead-time bucket) (every bucket, even when empty),
-- over canceled past bookings
-- materialized: table
with

events as (

    select * from analytics.fct_events

),

lead_time_buckets as (

    select * from analytics.int_lead_time_buckets

),

users as (

    select * from analytics.stg_users

),

accounts as (

    -- every account with a booking or a user: an organization synced with no booking yet
    -- reads every bucket at 0, as kpi_summary reads it
    select account from events
    union
    select account from users

),

canceled as (

    select * from events
    where is_past
        and is_canceled

),

counts as (

    select
        account,
        cancellation_lead_time_bucket as lead_time_bucket,
        count(*) as canceled_bookings,
        count(*) filter (where canceled_by = 'invitee') as canceled_by_invitee,
        count(*) filter (where canceled_by = 'host') as canceled_by_host,
        count(*) filter (where canceled_by = 'unknown') as canceled_by_unknown,
        count(*) filter (where is_late_cancellation) as late_cancellations
    from canceled
    group by account, cancellation_lead_time_bucket

),

final as (

    select
        accounts.account,
        lead_time_buckets.lead_time_bucket,
        lead_time_buckets.lead_time_bucket_label,
        lead_time_buckets.lead_time_bucket_order,
        lead_time_buckets.min_lead_time_minutes,
        lead_time_buckets.max_lead_time_minutes,
        coalesce(counts.canceled_bookings, 0) as canceled_bookings,
        coalesce(counts.canceled_by_invitee, 0) as canceled_by_invitee,
        coalesce(counts.canceled_by_host, 0) as canceled_by_host,
        coalesce(counts.canceled_by_unknown, 0) as canceled_by_unknown,
        coalesce(counts.late_cancellations, 0) as late_cancellations,
        coalesce(counts.canceled_bookings, 0)
        / nullif(sum(coalesce(counts.canceled_bookings, 0)) over (partition by accounts.account), 0)
            as share_of_cancellations,
        counts.late_cancellations / nullif(counts.canceled_bookings, 0)
            as late_cancellation_share
    from accounts
    cross join lead_time_buckets
    left join counts
        on accounts.account = counts.account
        and lead_time_buckets.lead_time_bucket = counts.lead_time_bucket

)

select * from final
order by account, lead_time_bucket_order
