-- grain: one row per time slot proposed by a poll
-- materialized: view
with

source as (

    select * from raw.polls__availability

),

renamed as (

    select
        -- ids
        account,
        poll_id,
        id as poll_availability_id,

        -- timestamps (UTC)
        date as proposed_at,
        _synced_at as synced_at

    from source

)

select * from renamed
