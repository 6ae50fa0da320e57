{#-
    Active submissions only: loaded, with a file currently in the inbox. Pointing the pipeline
    at another inbox builds from that inbox alone; withdrawn and rejected files stay in
    audit.load_log. `source_file` is the path the file has in the inbox now.
-#}
with

submissions as (

    select * from {{ ref('stg_ledger__submissions') }}

),

inbox_files as (

    select * from {{ ref('int_inbox_files_canonical') }}

),

current_paths as (

    select
        sha256,
        source_file
    from inbox_files
    where is_canonical_path

),

active as (

    select
        ---------- ids
        submissions.submission_id,
        submissions.sha256,

        ---------- descriptive
        submissions.unit_name,
        submissions.unit_written,
        submissions.year,
        submissions.month,
        submissions.sheet,
        current_paths.source_file,
        parse_filename(current_paths.source_file) as file_name,

        ---------- counts
        submissions.rows_read,
        submissions.rows_loaded,
        submissions.rows_quarantined,
        submissions.rows_ignored_blank,

        ---------- dates
        submissions.report_date,
        submissions.file_mtime,
        submissions.received_at,

        ---------- lineage
        submissions.load_run_id

    from submissions
    inner join current_paths
        on submissions.sha256 = current_paths.sha256
    where submissions.load_status = 'loaded'

)

select * from active
