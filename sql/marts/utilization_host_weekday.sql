-- grain: one row per (host, ISO weekday) over past days: the utilization heatmap
-- materialized: table
with

daily as (

    select * from analytics.utilization_host_daily
    where is_past_day

),

final as (

    select
        host_user_id,
        any_value(host_full_name) as host_full_name,
        iso_weekday,
        any_value(weekday_name) as weekday_name,
        case
            when min(offered_minutes_source) = max(offered_minutes_source)
                then min(offered_minutes_source)
            else 'mixed'
        end as offered_minutes_source,
        count(*) as days,
        count(*) filter (where offered_minutes_source = 'snapshot') as snapshot_days,
        count(*) filter (where offered_minutes_source = 'working_hours') as working_hours_days,
        count(*) filter (where offered_minutes_source = 'mixed') as mixed_days,
        sum(booked_minutes) as booked_minutes,
        sum(offered_minutes) as offered_minutes,
        sum(booked_in_offered_minutes) as booked_in_offered_minutes,
        sum(booked_outside_offered_minutes) as booked_outside_offered_minutes,
        sum(booked_in_offered_minutes) / nullif(sum(offered_minutes), 0) as utilization
    from daily
    group by host_user_id, iso_weekday

)

select * from final
