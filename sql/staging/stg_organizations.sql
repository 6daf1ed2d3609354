-- grain: one row per organization
-- materialized: view
with

source as (

    select * from raw.organizations

),

renamed as (

    select
        -- ids
        account,
        id as organization_id,
        uuid as organization_uuid,
        social_link_id,

        -- strings
        name as organization_name,
        slug,
        locale,
        calendar_layout,
        email,
        intro,
        domain,
        social_link_facebook_url,
        social_link_twitter_url,
        social_link_instagram_url,
        social_link_linkedin_url,
        social_link_whatsapp_url,

        -- booleans
        rtl as is_rtl,
        hide_unavailable_dates,
        sunday_is_first_day,

        -- timestamps (UTC)
        created_at,
        _synced_at as synced_at

    from source

)

select * from renamed
