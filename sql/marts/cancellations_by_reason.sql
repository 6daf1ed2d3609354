-- grain: one row per (account, who canceled, reason given) among canceled past bookings
-- materialized: table
with

events as (

    select * from analytics.fct_events

),

canceled as (

    select * from events
    where is_past
        and is_canceled

),

counts as (

    select
        account,
        canceled_by,
        coalesce(cancellation_reason, '(no reason given)') as cancellation_reason,
        count(*) as canceled_bookings,
        count(*) filter (where is_late_cancellation) as late_cancellations
    from canceled
    group by all

),

final as (

    select
        account,
        canceled_by,
        cancellation_reason,
        canceled_bookings,
        late_cancellations,
        canceled_bookings / sum(canceled_bookings) over (partition by account) as share_of_cancellations,
        late_cancellations / canceled_bookings as late_cancellation_share
    from counts

)

select * from final
