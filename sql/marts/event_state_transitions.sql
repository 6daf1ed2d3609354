-- grain: one row per version that changed a booking's state or its scheduled start
-- materialized: table
-- `changed_at` is the new version's updatedAt. `lead_time_minutes` is how long before the
-- start then in force (the previous version's) the change was made; negative after it. A
-- cancellation is dated by the API's canceledAt when it falls between the two versions:
-- a later edit before the sync saw it (notes, a reminder stamp) moves updatedAt, not it.
-- Only changes between versions the sync saw are here: a booking canceled and rescheduled
-- between two syncs shows one transition to its end state, and a booking first seen
-- already canceled has no transition (time_to_cancel counts it from its cancellation time).
with

history as (

    select * from analytics.event_history

),

paired as (

    select
        *,
        lag(state) over by_event as from_state,
        lag(scheduled_at) over by_event as from_scheduled_at,
        lag(valid_from) over by_event as from_valid_from
    from history
    window by_event as (partition by account, event_id order by version_number)

),

changes as (

    select
        *,
        from_state is distinct from state as is_state_change,
        from_scheduled_at is distinct from scheduled_at as is_reschedule,
        case
            when
                state = 'canceled'
                and from_state <> 'canceled'
                and canceled_at > from_valid_from
                and canceled_at <= valid_from
                then canceled_at
            else valid_from
        end as made_at
    from paired
    where version_number > 1

),

final as (

    select
        -- ids
        account,
        event_id,
        version_number,
        host_user_id,
        event_type_id,

        -- strings
        case
            when is_state_change and is_reschedule then 'state_and_schedule'
            when is_state_change then 'state'
            else 'schedule'
        end as transition_type,
        from_state,
        state as to_state,

        -- numerics
        (epoch(from_scheduled_at) - epoch(made_at)) / 60.0 as lead_time_minutes,

        -- booleans
        is_state_change,
        is_reschedule,
        is_deleted,

        -- timestamps (UTC)
        valid_from as changed_at,
        from_scheduled_at,
        scheduled_at as to_scheduled_at,
        known_from

    from changes
    where is_state_change or is_reschedule

)

select * from final
