-- grain: one row per (account, host): the time zone of the host's calendar, which dates the
-- host's bookings and days. The user list's zone, else the zone the host's most recently
-- updated booking embeds for its owner (a host the user list no longer serves, a removed
-- colleague, keeps one calendar for all their bookings); zones the warehouse does not know
-- are left out. Models fall back on the event type's zone, else UTC, only for a host with
-- neither.
-- materialized: table
with

users as (

    select * from analytics.stg_users

),

events as (

    select * from analytics.stg_events

),

timezone_names as (

    select name from analytics.seed_timezone_names

),

served as (

    select
        events.account,
        events.host_user_id,
        events.host_timezone_served as timezone,
        row_number() over (
            partition by events.account, events.host_user_id
            order by events.updated_at desc nulls last, events.event_id desc
        ) as recency
    from events
    inner join timezone_names
        on events.host_timezone_served = timezone_names.name
    where events.host_user_id is not null

),

latest_served as (

    select
        account,
        host_user_id,
        timezone
    from served
    where recency = 1

),

final as (

    select
        coalesce(users.account, latest_served.account) as account,
        coalesce(users.user_id, latest_served.host_user_id) as host_user_id,
        coalesce(users.timezone, latest_served.timezone) as timezone
    from users
    full outer join latest_served
        on users.account = latest_served.account
        and users.user_id = latest_served.host_user_id

)

select * from final
where timezone is not null
