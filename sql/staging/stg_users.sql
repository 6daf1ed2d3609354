-- grain: one row per user of the organization
-- materialized: view
with

source as (

    select * from raw.users

),

timezone_names as (

    select name from pg_timezone_names()

),

renamed as (

    select
        -- ids
        source.id as user_id,
        source.uuid as user_uuid,
        source.organization_id,

        -- strings
        source.email,
        source.full_name,
        source.slug,
        source.date_format,
        source.time_format,
        source.timezone as timezone_raw,
        case when timezone_names.name is not null then source.timezone end as timezone,
        source.timezone_offset,
        source.address,
        source.state as address_state,
        source.city,
        source.zip,
        source.country_id,
        source.domain,
        source.phone,
        source.company_logo_name,
        source.avatar_name,
        source.connections as connections_json,

        -- numerics
        source.subscription_users_limit,
        source.lat as latitude,
        source.lng as longitude,

        -- booleans
        source.is_enabled,
        source.is_second_factor_configured,
        source.has_paid_subscription,

        -- timestamps (UTC)
        source.created_at,
        source.last_login as last_login_at,
        source._synced_at as synced_at

    from source
    left join timezone_names
        on source.timezone = timezone_names.name

)

select * from renamed
