-- grain: one row per (host, host-local week starting Monday), across the host's event types
-- materialized: table
with

days as (

    select * from analytics.int_utilization_day_minutes
    where scope = 'host'

),

users as (

    select * from analytics.stg_users

),

weeks as (

    select
        account,
        host_user_id,
        week_start_local,
        -- a disabled event type's days offer nothing and do not make the others mixed
        case
            when count(*) filter (where offered_minutes_source <> 'disabled') = 0
                then 'disabled'
            when min(offered_minutes_source) filter (where offered_minutes_source <> 'disabled')
                = max(offered_minutes_source) filter (where offered_minutes_source <> 'disabled')
                then min(offered_minutes_source) filter (where offered_minutes_source <> 'disabled')
            else 'mixed'
        end as offered_minutes_source,
        count(*) filter (where offered_minutes_source = 'snapshot') as snapshot_days,
        count(*) filter (where offered_minutes_source = 'working_hours') as working_hours_days,
        count(*) filter (where offered_minutes_source = 'mixed') as mixed_days,
        bool_and(is_past_day) as is_past_week,
        sum(booked_minutes) as booked_minutes,
        sum(offered_minutes) as offered_minutes,
        sum(booked_in_offered_minutes) as booked_in_offered_minutes,
        sum(booked_outside_offered_minutes) as booked_outside_offered_minutes,
        sum(booked_in_offered_minutes) / nullif(sum(offered_minutes), 0) as utilization
    from days
    group by account, host_user_id, week_start_local

),

final as (

    select
        weeks.account,
        weeks.host_user_id,
        users.full_name as host_full_name,
        weeks.* exclude (account, host_user_id)
    from weeks
    left join users
        on weeks.account = users.account
        and weeks.host_user_id = users.user_id

)

select * from final
