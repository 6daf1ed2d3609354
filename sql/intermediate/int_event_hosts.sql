-- grain: one row per (booking, host): the booking's owner and every user assigned to it;
-- the primary host is the owner, else the first assigned user; each host's name and e-mail
-- as the booking embeds them (the user list's are stg_users')
-- materialized: table
with

events as (

    select * from analytics.stg_events

),

event_users as (

    select * from analytics.stg_event_users

),

owners as (

    select
        account,
        event_id,
        host_user_id,
        -1 as host_position,
        host_full_name_served,
        host_email_served
    from events
    where host_user_id is not null

),

assigned as (

    select
        account,
        event_id,
        user_id as host_user_id,
        position_in_parent as host_position,
        full_name_served as host_full_name_served,
        email_served as host_email_served
    from event_users
    where user_id is not null

),

hosts as (

    select
        account,
        event_id,
        host_user_id,
        min(host_position) as host_position,
        max(host_full_name_served) as host_full_name_served,
        max(host_email_served) as host_email_served
    from (
        select * from owners
        union all
        select * from assigned
    )
    group by account, event_id, host_user_id

),

ranked as (

    select
        account,
        event_id,
        host_user_id,
        row_number() over (
            partition by account, event_id order by host_position, host_user_id
        ) = 1 as is_primary_host,
        host_full_name_served,
        host_email_served
    from hosts

)

select * from ranked
