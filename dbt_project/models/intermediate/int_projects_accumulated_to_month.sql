{#-
    Year-to-date state of every project as of each month of the spine (from the first month
    it was reported in that year). The project's descriptive values are those of its latest
    report up to that month, so a March report changes March and later months only.

    Counting rules (DATA_CONTRACT §4), as of month m of year Y:
    - is_new: the latest report says 新引进, the project was first reported in Y and its sector
      counts projects (not 金融贷款);
    - headline funds (实际到位资金) = funds of new projects plus sectors without a project count
      (金融贷款); every other project's funds are continuing funds (续建, or 新引进 rows of a
      project first reported in an earlier year). The two add up to all reported funds.

    Incremental: the months from the first changed period on are recomputed (macros/
    incremental_from_period.sql) from that year's reports (the running sums start in January);
    a month depends on reports up to it and on first reports, which a later change cannot
    move before it.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='replace_from_period',
        on_schema_change='fail'
    )
}}

-- depends_on: {{ ref('int_ledger_changes') }}

with

project_months as (

    select * from {{ ref('int_funds_by_project_month') }}
    {%- if is_incremental() %}
        where year >= {{ ledger_changed_from() }} // 100
    {%- endif %}

),

first_reported as (

    select * from {{ ref('int_projects_first_reported') }}

),

spine as (

    select * from {{ ref('int_year_month_spine') }}
    {%- if is_incremental() %}
        where year >= {{ ledger_changed_from() }} // 100
    {%- endif %}

),

sectors as (

    select * from {{ ref('sectors') }}

),

latest_months as (

    select
        year,
        max(month) as latest_month
    from spine
    group by 1

),

running as (

    select
        *,
        sum(credited_funds_wan) over reports_so_far as funds_ytd_wan,
        sum(rows_in_month) over reports_so_far as rows_ytd,
        count(*) over reports_so_far as months_reported_ytd,
        lead(month) over (
            partition by project_id, year order by month
        ) as next_reported_month
    from project_months
    window reports_so_far as (
        partition by project_id, year
        order by month
        rows between unbounded preceding and current row
    )

),

{# a report stands for every month until the project's next report (or the spine's end) #}
latest_report as (

    select
        running.*,
        unnest(
            range(
                running.month,
                coalesce(
                    running.next_reported_month, latest_months.latest_month + 1
                )
            )
        ) as as_of_month
    from running
    inner join latest_months
        on running.year = latest_months.year

),

classified as (

    select
        ---------- ids
        latest_report.project_id,
        latest_report.year,
        cast(latest_report.as_of_month as integer) as month,

        ---------- foreign keys
        latest_report.unit_name,

        ---------- descriptive
        latest_report.project_name,
        latest_report.sector,
        latest_report.project_kind,
        latest_report.size_band,
        latest_report.is_major,
        latest_report.month as latest_reported_month,
        first_reported.first_reported_year,
        first_reported.first_reported_month,
        sectors.counts_projects as sector_counts_projects,
        (
            latest_report.project_kind = '新引进'
            and first_reported.first_reported_year = latest_report.year
            and sectors.counts_projects
        ) as is_new,
        latest_report.rows_ytd,
        latest_report.months_reported_ytd,

        ---------- amounts
        latest_report.total_investment_wan,
        latest_report.funds_ytd_wan

    from latest_report
    inner join first_reported
        on latest_report.project_id = first_reported.project_id
    inner join sectors
        on latest_report.sector = sectors.sector

),

final as (

    select
        *,
        is_new or not sector_counts_projects as is_headline,
        case
            when is_new or not sector_counts_projects then funds_ytd_wan
            else 0
        end as headline_funds_ytd_wan,
        case
            when is_new or not sector_counts_projects then 0
            else funds_ytd_wan
        end as continuing_funds_ytd_wan
    from classified
    {%- if is_incremental() %}
        where year * 100 + month >= {{ ledger_changed_from() }}
    {%- endif %}

)

select * from final
