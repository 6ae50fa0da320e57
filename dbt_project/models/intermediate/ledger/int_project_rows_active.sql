{#-
    Project rows of the active submissions, as Python loaded them (values are already
    normalised: NFKC, aliases, 万元), with the unit, the period and the file they came from.
    `contact` (联系人及电话) is personal data and is never selected.
-#}
with

project_rows as (

    select * from {{ ref('stg_ledger__project_rows') }}

),

submissions as (

    select * from {{ ref('int_submissions_active') }}

),

joined as (

    select
        ---------- ids
        project_rows.submission_id,
        project_rows.sheet,
        project_rows.row_number,
        project_rows.seq,
        project_rows.ledger_id,

        ---------- foreign keys
        submissions.unit_name,
        submissions.year,
        submissions.month,

        ---------- descriptive
        project_rows.project_name,
        project_rows.investor_name,
        project_rows.investor_uscc,
        project_rows.capital_origin,
        project_rows.sector,
        project_rows.project_kind,
        project_rows.project_status,
        project_rows.is_high_tech,
        project_rows.signing_event,
        project_rows.evidence_type,
        project_rows.remarks,

        ---------- amounts
        project_rows.total_investment_wan,
        project_rows.contract_amount_wan,
        project_rows.funds_period_wan,
        project_rows.funds_cumulative_wan,
        project_rows.foreign_usd_wan,
        project_rows.credit_share_pct,

        ---------- dates
        project_rows.signed_date,
        project_rows.start_date,
        project_rows.entity_registration_date,

        ---------- lineage
        submissions.source_file,
        submissions.sha256

    from project_rows
    inner join submissions
        on project_rows.submission_id = submissions.submission_id

)

select * from joined
