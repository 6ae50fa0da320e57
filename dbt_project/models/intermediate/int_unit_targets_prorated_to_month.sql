{#-
    Every unit that is on the roster for a year, or that reported in that year without being
    on it (its figures still count in the county totals; its targets are 0), for every month
    of the year's spine, with the annual targets and their year-to-date share (target × m/12).
-#}
with

units as (

    select * from {{ ref('stg_reference__units') }}

),

submissions_ranked as (

    select * from {{ ref('int_submissions_ranked_latest') }}

),

spine as (

    select * from {{ ref('int_year_month_spine') }}

),

units_reporting as (

    select distinct
        unit_name,
        year
    from submissions_ranked

),

unit_years as (

    select
        unit_name,
        year
    from units
    union
    select
        unit_name,
        year
    from units_reporting

),

latest_unit_type as (

    select
        unit_name,
        unit_type
    from units
    qualify row_number() over (partition by unit_name order by year desc) = 1

),

prorated as (

    select
        ---------- ids
        unit_years.unit_name,
        spine.year,
        spine.month,

        ---------- descriptive
        coalesce(units.unit_type, latest_unit_type.unit_type) as unit_type,
        units.unit_name is not null as is_on_roster,

        ---------- amounts
        coalesce(units.target_funds_wan, 0) as target_funds_wan,
        coalesce(units.target_projects, 0) as target_projects,
        coalesce(units.target_funds_wan, 0) * spine.elapsed_share
            as ytd_target_funds_wan,
        coalesce(units.target_projects, 0) * spine.elapsed_share
            as ytd_target_projects,
        spine.elapsed_share,
        spine.elapsed_pct

    from unit_years
    inner join spine
        on unit_years.year = spine.year
    left join units
        on unit_years.unit_name = units.unit_name
        and unit_years.year = units.year
    left join latest_unit_type
        on unit_years.unit_name = latest_unit_type.unit_name

)

select * from prorated
