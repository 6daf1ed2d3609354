-- grain: one row per (account, host, event type, host-local week, host-local month) with a
-- booking: how many bookings, and how many past ones ended in each outcome the rate marts
-- report. `no_show_rates`, `cancellation_rates` and `kpi_period_over_period` add these cells
-- up per grain, so a million bookings are counted once for all three, not once per grain.
-- materialized: table
with

events as (

    select * from analytics.fct_events

),

final as (

    select
        account,
        host_user_id,
        event_type_id,
        scheduled_week_local,
        scheduled_month_local,
        count(*) as bookings,
        count(*) filter (where is_past) as past_bookings,
        count(*) filter (where is_past and final_state = 'booked') as completed_bookings,
        count(*) filter (where is_past and is_rescheduled) as rescheduled_bookings,
        count(*) filter (where is_past and is_canceled) as canceled_bookings,
        count(*) filter (where is_past and canceled_by = 'invitee') as canceled_by_invitee,
        count(*) filter (where is_past and canceled_by = 'host') as canceled_by_host,
        count(*) filter (where is_past and canceled_by = 'unknown') as canceled_by_unknown,
        count(*) filter (where is_past and is_late_cancellation) as late_cancellations,
        count(*) filter (where is_past and final_state = 'unknown') as unknown_state_bookings,
        count(*) filter (
            where is_past and final_state in ('booked', 'no_show')
        ) as eligible_bookings,
        count(*) filter (where is_past and is_no_show) as no_shows
    from events
    group by account, host_user_id, event_type_id, scheduled_week_local, scheduled_month_local

)

select * from final
