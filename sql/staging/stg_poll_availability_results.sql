-- grain: one row per vote cast on a poll's time slot
-- materialized: view
with

source as (

    select * from raw.polls__availability__results

),

renamed as (

    select
        -- ids
        account,
        poll_id,
        availability_id as poll_availability_id,

        -- strings
        email as voter_email,
        comment as voter_comment,

        -- numerics
        position_in_parent,

        -- timestamps (UTC)
        _synced_at as synced_at

    from source

)

select * from renamed
