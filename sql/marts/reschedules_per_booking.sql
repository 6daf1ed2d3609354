-- grain: one row per booking (not deleted upstream)
-- materialized: table
-- How often a booking was moved before it happened. Two sources: moves of the scheduled start
-- between versions the sync saw, made before the start then in force (`seen_reschedules`),
-- and the API's `rescheduling` list (`listed_reschedules`), which also knows the moves made
-- before the first sync or between two syncs. `reschedules` takes whichever says more.
with

events as (

    select * from analytics.fct_events

),

transitions as (

    select * from analytics.event_state_transitions

),

reschedulings as (

    select * from analytics.stg_event_reschedulings

),

seen as (

    select
        account,
        event_id,
        count(*) as seen_reschedules
    from transitions
    where is_reschedule and lead_time_minutes > 0
    group by account, event_id

),

listed as (

    select
        account,
        event_id,
        count(*) as listed_reschedules
    from reschedulings
    group by account, event_id

),

final as (

    select
        -- ids
        events.account,
        events.event_id,
        events.host_user_id,
        events.event_type_id,

        -- strings
        events.final_state,
        case
            when coalesce(listed.listed_reschedules, 0) = 0
                and coalesce(seen.seen_reschedules, 0) = 0 then 'none'
            when coalesce(listed.listed_reschedules, 0) >= coalesce(seen.seen_reschedules, 0)
                then 'rescheduling_list'
            else 'history'
        end as reschedules_source,

        -- numerics
        coalesce(seen.seen_reschedules, 0) as seen_reschedules,
        coalesce(listed.listed_reschedules, 0) as listed_reschedules,
        greatest(
            coalesce(seen.seen_reschedules, 0), coalesce(listed.listed_reschedules, 0)
        ) as reschedules,

        -- booleans
        events.is_past,

        -- timestamps (UTC); the end, with is_past, says whose end the next as_of passes
        events.scheduled_at,
        events.scheduled_end_at

    from events
    left join seen
        on events.account = seen.account
        and events.event_id = seen.event_id
    left join listed
        on events.account = listed.account
        and events.event_id = listed.event_id

)

select * from final
