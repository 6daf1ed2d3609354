-- grain: one row per version of a booking the sync has seen: (account, event_id, updated_at)
-- materialized: view
-- Versions come from raw.event_versions (written by every sync since the history existed)
-- and the current row of raw.events, so a warehouse synced before then starts from each
-- booking's latest state. A version read by several syncs keeps the first that saw it
-- (`first_synced_at`: when the warehouse learned of it). Bookings deleted upstream are kept,
-- with `deleted_at`, so that a past state can be reproduced; the history marts say so.
-- A booking served without `updatedAt` (never updated, on a server that leaves the stamp
-- empty until then) is stamped with its `createdAt`, as the sync keys its versions
-- (src/simplymeet/sync/history.py): it has been as it is since it was created. Unstamped
-- changes share that stamp as changes within one second share theirs (the latest read is
-- the content), and a live row whose stamp went missing after a version was stamped is
-- placed at the latest stamp seen, never before what it followed.
with

versions as (

    select
        account,
        id,
        updated_at,
        created_at,
        state,
        scheduled_at,
        end_date,
        duration,
        user_id,
        event_type_id,
        canceled_at,
        cancellation_canceler,
        cancellation_reason,
        _synced_at,
        false as is_live_row
    from raw.event_versions

),

unstamped as (

    -- only the rows served without updatedAt: the join below then looks the versions of a
    -- handful of bookings up, not of a million
    select
        account,
        id
    from raw.events
    where updated_at is null

),

latest_stamps as (

    select
        versions.account,
        versions.id,
        max(versions.updated_at) as latest_updated_at
    from versions
    inner join unstamped
        on versions.account = unstamped.account
        and versions.id = unstamped.id
    group by versions.account, versions.id

),

current_rows as (

    select
        events.account,
        events.id,
        -- greatest() skips nulls (DuckDB, PostgreSQL): a booking with no version yet is at
        -- its createdAt, one whose last version is stamped later is at that stamp
        coalesce(
            events.updated_at,
            greatest(events.created_at, latest_stamps.latest_updated_at)
        ) as updated_at,
        events.created_at,
        events.state,
        events.scheduled_at,
        events.end_date,
        events.duration,
        events.user_id,
        events.event_type_id,
        events.canceled_at,
        events.cancellation_canceler,
        events.cancellation_reason,
        events._synced_at,
        true as is_live_row
    from raw.events as events
    left join latest_stamps
        on events.account = latest_stamps.account
        and events.id = latest_stamps.id
    where events.updated_at is not null
        or events.created_at is not null
        or latest_stamps.latest_updated_at is not null

),

deletions as (

    -- only the deleted: the join then looks a million versions up in a handful of rows
    select
        account,
        id,
        deleted_at
    from raw.events
    where deleted_at is not null

),

served_type_lengths as (

    -- the length each booking embeds for its event type, deleted bookings too: a version
    -- served without its own length lasts that of a type deleted upstream (event_history)
    select
        account,
        id,
        event_type_id,
        event_type_duration
    from raw.events
    where event_type_duration is not null

),

state_synonyms as (

    select * from analytics.seed_event_states

),

cancelers as (

    select * from analytics.seed_cancelers

),

seen as (

    select
        *,
        min(_synced_at) over (partition by account, id, updated_at) as first_read_at
    from (
        select * from versions
        union all
        select * from current_rows
    ) as read_rows

),

first_seen as (

    -- one row per (booking, updatedAt): its content as last read, known since the first sync
    -- that read that stamp. Two changes within one second share a stamp (the reference's times
    -- are whole seconds); the later is what the booking became at that second. Read twice by
    -- one run (before and after the change), the live row is the later read: the version
    -- kept is the run's first.
    select * from seen
    qualify row_number() over (
        partition by account, id, updated_at order by _synced_at desc, is_live_row desc
    ) = 1

),

renamed as (

    select
        -- ids
        first_seen.account,
        first_seen.id as event_id,
        first_seen.user_id as host_user_id,
        first_seen.event_type_id,

        -- strings
        first_seen.state as state_raw,
        case
            when first_seen.canceled_at is not null then 'canceled'
            when first_seen.state is null then 'unknown'
            else coalesce(state_synonyms.state, 'unknown')
        end as state,
        case
            when cancelers.canceler is not null then cancelers.canceler
            when first_seen.cancellation_canceler is not null then 'unknown'
        end as canceled_by,
        -- trim() strips spaces only: a tab or a line break around a reason is whitespace
        -- too (two anchored patterns, no 'g' flag: BigQuery's regexp_replace takes none)
        nullif(
            regexp_replace(
                regexp_replace(first_seen.cancellation_reason, '^\s+', ''), '\s+$', ''
            ),
            ''
        ) as cancellation_reason,

        -- numerics
        first_seen.duration as duration_minutes,
        served_type_lengths.event_type_duration as event_type_duration_minutes_served,

        -- timestamps (UTC)
        first_seen.created_at,
        first_seen.updated_at,
        first_seen.scheduled_at,
        coalesce(
            first_seen.end_date,
            first_seen.scheduled_at + to_minutes(first_seen.duration)
        ) as scheduled_end_at,
        first_seen.canceled_at,
        first_seen.first_read_at as first_synced_at,
        deletions.deleted_at

    from first_seen
    left join deletions
        on first_seen.account = deletions.account
        and first_seen.id = deletions.id
    left join served_type_lengths
        on first_seen.account = served_type_lengths.account
        and first_seen.id = served_type_lengths.id
        and first_seen.event_type_id = served_type_lengths.event_type_id
    left join state_synonyms
        on lower(regexp_replace(first_seen.state, '^\s+|\s+$', '', 'g')) = state_synonyms.state_raw
    left join cancelers
        on lower(regexp_replace(first_seen.cancellation_canceler, '^\s+|\s+$', '', 'g'))
        = cancelers.canceler

)

select * from renamed
