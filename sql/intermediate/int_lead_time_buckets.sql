-- grain: one row per cancellation lead-time bucket: minutes from cancellation to the
-- scheduled start, lower bound inclusive, upper bound exclusive
-- materialized: view
with

buckets as (

    select * from (
        values
        ('after_start', 'After start', 1, -'infinity'::double, 0.0),
        ('under_1h', 'Under 1 h', 2, 0.0, 60.0),
        ('1h_to_24h', '1–24 h', 3, 60.0, 1440.0),
        ('1d_to_3d', '1–3 days', 4, 1440.0, 4320.0),
        ('3d_to_7d', '3–7 days', 5, 4320.0, 10080.0),
        ('7d_plus', '7 days or more', 6, 10080.0, 'infinity'::double),
        -- canceled with no cancellation time: the null bounds match no lead time
        ('unknown', 'Unknown', 7, null, null)
    ) as buckets (
        lead_time_bucket,
        lead_time_bucket_label,
        lead_time_bucket_order,
        min_lead_time_minutes,
        max_lead_time_minutes
    )

)

select * from buckets
