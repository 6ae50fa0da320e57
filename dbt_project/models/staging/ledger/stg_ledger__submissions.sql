with

source as (

    select * from {{ source('ledger', 'submissions') }}

),

renamed as (

    select
        ---------- ids
        submission_id,
        submission_id as sha256,

        ---------- descriptive
        status as load_status,
        unit_name,
        unit_written,
        year,
        month,
        sheet,
        source_file as first_source_file,
        file_name,
        reject_code,
        reason_zh,
        reason_en,

        ---------- counts
        size_bytes,
        rows_read,
        rows_loaded,
        rows_quarantined,
        rows_ignored_blank,

        ---------- dates
        report_date,
        file_mtime,
        received_at,

        ---------- lineage
        load_run_id,
        identity_source

    from source

)

select * from renamed
