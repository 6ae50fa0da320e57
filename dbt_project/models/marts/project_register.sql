{#-
    Every project ever reported (as-reported identity), as last reported, with when it was
    first reported and all funds that arrived to date. No contact column: personal data
    never leaves the ledger.
-#}
with

project_months as (

    select * from {{ ref('int_funds_by_project_month') }}

),

first_reported as (

    select * from {{ ref('int_projects_first_reported') }}

),

size_bands as (

    select * from {{ ref('size_bands') }}

),

funds_to_date as (

    select
        project_id,
        sum(credited_funds_wan) as funds_to_date_wan,
        count(*) as months_reported
    from project_months
    group by 1

),

latest_report as (

    select *
    from project_months
    qualify row_number() over (
        partition by project_id order by year desc, month desc
    ) = 1

),

final as (

    select
        ---------- ids
        latest_report.project_id,

        ---------- descriptive
        latest_report.project_name,
        latest_report.investor_name,
        latest_report.investor_uscc,
        latest_report.unit_name,
        latest_report.sector,
        latest_report.size_band,
        size_bands.label_zh as size_band_zh,
        latest_report.is_major,
        latest_report.project_kind,
        latest_report.project_status,
        latest_report.capital_origin,
        latest_report.is_high_tech,
        latest_report.signing_event,
        funds_to_date.months_reported,

        ---------- amounts
        latest_report.total_investment_wan,
        latest_report.contract_amount_wan,
        latest_report.credit_share_pct,
        funds_to_date.funds_to_date_wan,
        latest_report.funds_cumulative_wan as latest_funds_cumulative_wan,

        ---------- dates
        latest_report.signed_date,
        first_reported.first_reported_year,
        first_reported.first_reported_month,
        make_date(latest_report.year, latest_report.month, 1)
            as latest_reported_month,

        ---------- lineage (the latest report)
        latest_report.source_file,
        latest_report.sheet,
        latest_report.row_number,
        latest_report.submission_id

    from latest_report
    inner join first_reported
        on latest_report.project_id = first_reported.project_id
    inner join funds_to_date
        on latest_report.project_id = funds_to_date.project_id
    left join size_bands
        on latest_report.size_band = size_bands.size_band

)

select * from final
