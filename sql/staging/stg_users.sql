-- grain: one row per user of the organization, the API key's owner flagged
-- materialized: view
with

users as (

    select * from raw.users

),

api_key_owner as (

    select * from raw.current_user

),

source as (

    select
        users.*,
        api_key_owner.id is not null as is_api_key_owner
    from users
    left join api_key_owner
        on users.account = api_key_owner.account
        and users.id = api_key_owner.id

    union all by name

    -- the key's owner is normally among the users; until the users resource is synced
    -- (or if the list ever leaves them out) they still have their row
    select
        api_key_owner.*,
        true as is_api_key_owner
    from api_key_owner
    where not exists (
        select 1 from users
        where users.account = api_key_owner.account and users.id = api_key_owner.id
    )

),

timezone_names as (

    select name from analytics.seed_timezone_names

),

renamed as (

    select
        -- ids
        source.account,
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
        source.is_api_key_owner,
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
