-- grain: one row per question asked by an event type's booking form
-- materialized: view
with

source as (

    select * from raw.event_types__questions

),

renamed as (

    select
        -- ids
        account,
        event_type_id,
        uuid as question_uuid,

        -- strings
        label as question_label,
        type as question_type,
        config as question_config_json,

        -- numerics
        position as question_position,
        position_in_parent,

        -- booleans
        required as is_required,

        -- timestamps (UTC)
        _synced_at as synced_at

    from source

)

select * from renamed
