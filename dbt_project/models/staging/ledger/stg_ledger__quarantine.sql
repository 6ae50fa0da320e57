{#- `raw_value` is masked by Python before it reaches the ledger. -#}
with

source as (

    select * from {{ source('ledger', 'quarantine') }}

),

renamed as (

    select
        ---------- ids
        submission_id,
        sheet,
        row_number,

        ---------- descriptive
        column_name,
        column_letter,
        header,
        raw_value,
        reason_code,
        reason_zh,
        reason_en,
        decision,

        ---------- lineage
        source_file

    from source

)

select * from renamed
