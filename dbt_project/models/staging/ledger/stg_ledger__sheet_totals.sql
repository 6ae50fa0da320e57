with

source as (

    select * from {{ source('ledger', 'sheet_totals') }}

),

renamed as (

    select
        ---------- ids
        submission_id,
        sheet,
        row_number,

        ---------- amounts
        total_investment_wan,
        contract_amount_wan,
        funds_period_wan,
        funds_cumulative_wan,
        foreign_usd_wan

    from source

)

select * from renamed
