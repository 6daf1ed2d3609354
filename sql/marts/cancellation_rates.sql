-- grain: one row per breakdown value: overall, host, event type, local week, local month
-- materialized: table
-- cancellation_rate = canceled past bookings / past bookings; who canceled and the share
-- that was late against the cancellation policy in force, over canceled past bookings.
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
        cast(sum(canceled_by_invitee) as bigint) as canceled_by_invitee,
        cast(sum(canceled_by_host) as bigint) as canceled_by_host,
        cast(sum(canceled_by_unknown) as bigint) as canceled_by_unknown,
        cast(sum(late_cancellations) as bigint) as late_cancellations
    from cells
    group by grouping sets (
        (account),
        (account, host_user_id),
        (account, event_type_id),
        (account, scheduled_week_local),
        (account, scheduled_month_local)
    )

),

final as (

    select
        counts.account,
        counts.breakdown,
        counts.host_user_id,
        users.full_name as host_full_name,
        counts.event_type_id,
        event_types.event_type_name,
        counts.week_start_local,
        counts.month_start_local,
        counts.past_bookings,
        counts.canceled_bookings,
        counts.canceled_by_invitee,
        counts.canceled_by_host,
        counts.canceled_by_unknown,
        counts.late_cancellations,
        counts.canceled_bookings / nullif(counts.past_bookings, 0) as cancellation_rate,
        counts.canceled_by_invitee / nullif(counts.canceled_bookings, 0)
            as invitee_cancellation_share,
        counts.canceled_by_host / nullif(counts.canceled_bookings, 0)
            as host_cancellation_share,
        counts.late_cancellations / nullif(counts.canceled_bookings, 0)
            as late_cancellation_share
    from counts
    left join users
        on counts.account = users.account
        and counts.host_user_id = users.user_id
    left join event_types
        on counts.account = event_types.account
        and counts.event_type_id = event_types.event_type_id

)

select * from final
