{#-
    Several paths may hold one content (a clerk copied the file): the content is one
    submission, read once. The path that stands for it is the first path seen if it is still
    in the inbox, else the first other path in name order; the rest are duplicates.
-#}
with

inbox_files as (

    select * from {{ ref('stg_ledger__inbox_files') }}

),

submissions as (

    select * from {{ ref('stg_ledger__submissions') }}

),

paths_ranked as (

    select
        inbox_files.*,
        submissions.submission_id,
        submissions.load_status,
        submissions.unit_name,
        submissions.unit_written,
        submissions.year,
        submissions.month,
        submissions.sheet,
        submissions.reject_code,
        submissions.reason_zh,
        submissions.reason_en,
        submissions.rows_read,
        submissions.rows_loaded,
        submissions.rows_quarantined,
        submissions.rows_ignored_blank,
        submissions.report_date,
        submissions.received_at,
        submissions.load_run_id,
        submissions.identity_source,
        case
            when inbox_files.is_in_inbox
                then row_number() over (
                    partition by inbox_files.sha256, inbox_files.is_in_inbox
                    order by
                        inbox_files.source_file = submissions.first_source_file desc,
                        inbox_files.source_file
                ) = 1
            else false
        end as is_canonical_path

    from inbox_files
    left join submissions
        on inbox_files.sha256 = submissions.submission_id

),

final as (

    select
        ---------- ids
        source_file,
        sha256,
        submission_id,

        ---------- descriptive
        is_in_inbox,
        is_canonical_path,
        case
            when not is_in_inbox then 'withdrawn'
            when not is_canonical_path then 'duplicate'
            else load_status
        end as file_status,
        unit_name,
        unit_written,
        year,
        month,
        sheet,
        reject_code,
        reason_zh,
        reason_en,
        identity_source,

        ---------- counts
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
        first_seen_run,
        last_seen_run

    from paths_ranked

)

select * from final
