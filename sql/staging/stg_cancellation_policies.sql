-- grain: one row per (policy type, version) ever seen; type is user or organization
-- materialized: view
with

source as (

    select * from raw.cancellation_policies

),

renamed as (

    select
        account,
        -- strings
        lower(trim(type)) as policy_type,
        label as policy_label,
        text as policy_text,

        -- numerics
        version as policy_version,
        period as period_minutes,

        -- booleans
        coalesce(enabled, false) as is_enabled,
        coalesce(overwrite_personal, false) as overwrites_personal,

        -- timestamps (UTC)
        first_seen_at,
        _synced_at as synced_at

    from source

)

select * from renamed
