-- grain: one row per version of a booking the sync has seen (event_id, version_number)
-- materialized: table
-- A version is valid from its updatedAt until the next version's; the last one is current.
-- A version stamped later than a version the syncs saw after it (a server clock running
-- ahead) is left out: no span of time holds it, and the version seen after it is current.
-- Changes made between two syncs are seen only as their end state. Bookings deleted upstream
-- keep their history (`is_deleted`), so that `as_of` a date before the deletion still
-- counts them; analyses of live bookings filter them out.
with

versions as (

    select * from analytics.stg_event_versions

),

event_types as (

    select * from analytics.stg_event_types

),


versions_with_end as (

    -- a version with neither endDate nor duration lasts its event type's duration (from the
    -- list, else as the booking embeds it: a type deleted upstream), else ends where it
    -- starts, as in fct_events: without an end it would never be past as of a date; one
    -- served without a start has none (it is neither past nor upcoming)
    select
        versions.*,
        case when versions.scheduled_at is not null then coalesce(
            versions.scheduled_end_at,
            versions.scheduled_at + to_minutes(coalesce(
                event_types.duration_minutes, versions.event_type_duration_minutes_served
            )),
            versions.scheduled_at
        ) end as scheduled_or_fallback_end_at
    from versions
    left join event_types
        on versions.account = event_types.account
        and versions.event_type_id = event_types.event_type_id

),

with_later_stamps as (

    select
        *,
        -- of this version and those seen after it (newest first: BigQuery's window order
        -- puts nulls elsewhere when ascending)
        min(updated_at) over (
            partition by account, event_id
            order by first_synced_at desc, updated_at desc
            rows between unbounded preceding and current row
        ) as earliest_stamp_from_here
    from versions_with_end

),

in_step as (

    select * from with_later_stamps where updated_at <= earliest_stamp_from_here

),

sequenced as (

    select
        *,
        row_number() over by_event as version_number,
        lead(updated_at) over by_event as next_updated_at
    from in_step
    window by_event as (partition by account, event_id order by updated_at)

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
        state,
        state_raw,
        canceled_by,
        cancellation_reason,

        -- numerics
        duration_minutes,

        -- booleans
        next_updated_at is null as is_current,
        deleted_at is not null as is_deleted,

        -- timestamps (UTC)
        updated_at as valid_from,
        next_updated_at as valid_to,
        scheduled_at,
        scheduled_or_fallback_end_at as scheduled_end_at,
        created_at,
        canceled_at,
        first_synced_at as known_from,
        deleted_at

    from sequenced

)

select * from final
