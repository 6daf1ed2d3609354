-- grain: one row per ACL resource
-- materialized: view
with

source as (

    select * from raw.acl_rules

),

renamed as (

    select
        account,
        -- strings
        resource,
        attributes as attributes_json,
        allowed_attributes as allowed_attributes_json,

        -- timestamps (UTC)
        _synced_at as synced_at

    from source

)

select * from renamed
