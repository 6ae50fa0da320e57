{#-
    "Now" comes from the inbox, not the clock (DATA_CONTRACT §5): for each year the active
    submissions cover, every month from January to the latest month any unit reported; the
    first year starts at the first month any unit reported (no empty months before it).
-#}
with

submissions as (

    select * from {{ ref('int_submissions_active') }}

),

first_reported as (

    select min(make_date(year, month, 1)) as first_period
    from submissions

),

latest_month_per_year as (

    select
        year,
        max(month) as latest_month
    from submissions
    group by 1

),

months as (

    select
        year,
        latest_month,
        unnest(range(1, latest_month + 1)) as month
    from latest_month_per_year

),

final as (

    select
        year,
        cast(month as integer) as month,
        make_date(year, cast(month as integer), 1) as period_start,
        latest_month,
        month = latest_month as is_latest_month,
        month / 12.0 as elapsed_share,
        round(month * 100.0 / 12, 4) as elapsed_pct
    from months
    where make_date(year, cast(month as integer), 1)
        >= (select first_reported.first_period from first_reported)

)

select * from final
