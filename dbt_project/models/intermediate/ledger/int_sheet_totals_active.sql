with

sheet_totals as (

    select * from {{ ref('stg_ledger__sheet_totals') }}

),

submissions as (

    select * from {{ ref('int_submissions_active') }}

),

joined as (

    select
        ---------- ids
        sheet_totals.submission_id,
        sheet_totals.sheet,
        sheet_totals.row_number,

        ---------- foreign keys
        submissions.unit_name,
        submissions.year,
        submissions.month,

        ---------- amounts
        sheet_totals.total_investment_wan,
        sheet_totals.contract_amount_wan,
        sheet_totals.funds_period_wan,
        sheet_totals.funds_cumulative_wan,
        sheet_totals.foreign_usd_wan,

        ---------- lineage
        submissions.source_file,
        submissions.sha256

    from sheet_totals
    inner join submissions
        on sheet_totals.submission_id = submissions.submission_id

)

select * from joined
