-- grain: one row per integration, by scope (user or organization)
-- materialized: view
with

source as (

    select * from raw.integrations

),

renamed as (

    select
        account,
        -- strings
        scope as integration_scope,
        name as integration_name,
        data as integration_json,

        -- numerics
        position_in_parent,

        -- timestamps (UTC)
        _synced_at as synced_at

    from source

)

select * from renamed
