with

quarantine as (

    select * from {{ ref('int_quarantine_located') }}

),

final as (

    select
        ---------- lineage (the contract's address of the problem)
        source_file,
        sheet,
        row_number,
        column_name,
        column_letter,
        header,

        ---------- descriptive
        reason_zh,
        reason_en,
        reason_code,
        raw_value,
        decision,
        unit_name,
        year,
        month,
        is_in_inbox,

        ---------- ids
        submission_id,
        sha256

    from quarantine

)

select * from final
