{#-
    Nothing lost, nothing counted twice: for each year, the funds in the marts as of the
    latest month (headline + continuing) equal Σ 本期到位资金 × 本单位计入比例 over the ledger
    rows of the latest submission of each unit-month, re-derived here from the active ledger rows;
    and the
    register's funds to date equal all of those rows.
-#}
with

project_rows as (

    select * from {{ ref('int_project_rows_active') }}

),

submissions as (

    select * from {{ ref('int_submissions_active') }}

),

sector_summary as (

    select * from {{ ref('sector_summary') }}

),

project_register as (

    select * from {{ ref('project_register') }}

),

latest_submissions as (

    select submission_id
    from submissions
    qualify row_number() over (
        partition by unit_name, year, month
        order by
            coalesce(report_date, cast(file_mtime as date)) desc nulls last,
            file_mtime desc nulls last,
            received_at desc,
            submission_id desc
    ) = 1

),

ledger_by_year as (

    select
        project_rows.year,
        sum(
            cast(
                project_rows.funds_period_wan
                * coalesce(project_rows.credit_share_pct, 100) / 100
                as decimal(18, 4)
            )
        ) as funds_wan
    from project_rows
    inner join latest_submissions
        on project_rows.submission_id = latest_submissions.submission_id
    group by 1

),

marts_by_year as (

    select
        year,
        sum(funds_wan + continuing_funds_wan) as funds_wan
    from sector_summary
    where month = (
        select max(latest.month)
        from sector_summary as latest
        where latest.year = sector_summary.year
    )
    group by 1

),

year_mismatches as (

    select
        coalesce(ledger_by_year.year, marts_by_year.year) as year,
        ledger_by_year.funds_wan as ledger_funds_wan,
        marts_by_year.funds_wan as marts_funds_wan
    from ledger_by_year
    full outer join marts_by_year
        on ledger_by_year.year = marts_by_year.year
    where ledger_by_year.funds_wan is distinct from marts_by_year.funds_wan

),

register_mismatch as (

    select
        cast(null as integer) as year,
        (select sum(ledger_by_year.funds_wan) from ledger_by_year) as ledger_funds_wan,
        sum(funds_to_date_wan) as marts_funds_wan
    from project_register
    having sum(funds_to_date_wan)
        is distinct from (select sum(ledger_by_year.funds_wan) from ledger_by_year)

)

select * from year_mismatches
union all
select * from register_mismatch
