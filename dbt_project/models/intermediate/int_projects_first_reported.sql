{#-
    When each project (as-reported identity) was first and last reported, from the latest
    submissions only: a row a unit withdrew by resubmitting does not make a project old.
    A project is NEW in year Y iff it is marked 新引进 and first reported in Y (§4); the flag
    rule 以旧充新 compares against the same first report.
-#}
with

project_rows as (

    select * from {{ ref('int_project_rows_latest') }}

),

rows_in_order as (

    select
        *,
        row_number() over (
            partition by project_id
            order by year, month, submission_id, sheet, row_number
        ) as report_order,
        count(*) over (partition by project_id) as rows_reported,
        max(year * 100 + month) over (partition by project_id) as latest_period

    from project_rows

),

first_report as (

    select
        ---------- ids
        project_id,

        ---------- foreign keys
        unit_name,

        ---------- descriptive
        project_name_key,
        investor_uscc,
        project_name as first_project_name,
        project_kind as first_project_kind,
        rows_reported,

        ---------- dates
        year as first_reported_year,
        make_date(year, month, 1) as first_reported_month,
        latest_period // 100 as latest_reported_year,
        make_date(latest_period // 100, latest_period % 100, 1) as latest_reported_month,

        ---------- lineage
        submission_id as first_submission_id,
        source_file as first_source_file,
        sheet as first_sheet,
        row_number as first_row_number

    from rows_in_order
    where report_order = 1

)

select * from first_report
