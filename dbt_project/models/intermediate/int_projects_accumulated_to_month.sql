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
-#}
with

project_months as (

    select * from {{ ref('int_funds_by_project_month') }}

),

first_reported as (

    select * from {{ ref('int_projects_first_reported') }}

),

spine as (

    select * from {{ ref('int_year_month_spine') }}

),

sectors as (

    select * from {{ ref('sectors') }}

),

reports_to_month as (

    select
        spine.month as as_of_month,
        project_months.*
    from project_months
    inner join spine
        on project_months.year = spine.year
        and project_months.month <= spine.month

),

accumulated as (

    select
        project_id,
        year,
        as_of_month,
        sum(credited_funds_wan) as funds_ytd_wan,
        sum(rows_in_month) as rows_ytd,
        count(*) as months_reported_ytd
    from reports_to_month
    group by 1, 2, 3

),

latest_report as (

    select *
    from reports_to_month
    qualify row_number() over (
        partition by project_id, year, as_of_month
        order by month desc
    ) = 1

),

classified as (

    select
        ---------- ids
        accumulated.project_id,
        accumulated.year,
        accumulated.as_of_month as month,

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
            and first_reported.first_reported_year = accumulated.year
            and sectors.counts_projects
        ) as is_new,
        accumulated.rows_ytd,
        accumulated.months_reported_ytd,

        ---------- amounts
        latest_report.total_investment_wan,
        accumulated.funds_ytd_wan

    from accumulated
    inner join latest_report
        on accumulated.project_id = latest_report.project_id
        and accumulated.year = latest_report.year
        and accumulated.as_of_month = latest_report.as_of_month
    inner join first_reported
        on accumulated.project_id = first_reported.project_id
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

)

select * from final
