{#-
    Every loaded project row the ledger holds, renamed (values are already normalised by
    Python: NFKC, aliases, 万元). `contact` (联系人及电话) is personal data and is never
    selected. Which rows count (active, latest submissions) is decided in intermediate.
-#}
with

source as (

    select * from {{ source('ledger', 'project_rows') }}

),

renamed as (

    select
        ---------- ids
        submission_id,
        sheet,
        row_number,
        seq,
        ledger_id,

        ---------- descriptive
        project_name,
        investor_name,
        investor_uscc,
        capital_origin,
        sector,
        project_kind,
        status as project_status,
        high_tech as is_high_tech,
        signing_event,
        evidence_type,
        remarks,

        ---------- amounts
        total_investment_wan,
        contract_amount_wan,
        funds_period_wan,
        funds_cumulative_wan,
        foreign_usd_wan,
        credit_share_pct,

        ---------- dates
        signed_date,
        start_date,
        entity_registration_date,

        ---------- lineage
        -- the cells as typed (JSON, masked); the inspection file's flag page shows them
        raw_cells

    from source

)

select * from renamed
