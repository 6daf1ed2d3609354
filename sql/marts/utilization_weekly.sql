-- grain: one row per (host, event type, host-local week starting Monday)
-- materialized: table
-- Sums of the daily minutes (days do not overlap); offered_minutes_source is 'snapshot' or
-- 'working_hours' when every day of the week used it, else 'mixed'.
with

daily as (

    select * from analytics.utilization_daily

),

final as (

    select
        host_user_id,
        any_value(host_full_name) as host_full_name,
        event_type_id,
        any_value(event_type_name) as event_type_name,
        week_start_local,
        case
            when min(offered_minutes_source) = max(offered_minutes_source)
                then min(offered_minutes_source)
            else 'mixed'
        end as offered_minutes_source,
        count(*) filter (where offered_minutes_source = 'snapshot') as snapshot_days,
        count(*) filter (where offered_minutes_source = 'working_hours') as working_hours_days,
        bool_and(is_past_day) as is_past_week,
        sum(booked_minutes) as booked_minutes,
        sum(offered_minutes) as offered_minutes,
        sum(booked_in_offered_minutes) as booked_in_offered_minutes,
        sum(booked_outside_offered_minutes) as booked_outside_offered_minutes,
        sum(booked_in_offered_minutes) / nullif(sum(offered_minutes), 0) as utilization
    from daily
    group by host_user_id, event_type_id, week_start_local

)

select * from final
