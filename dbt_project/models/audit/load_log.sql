{#-
    Every file the inbox has held, with what became of it: loaded (its rows count),
    superseded (a later report for the same unit and month replaced it), rejected,
    duplicate (the same content under another path) or withdrawn (no longer in the inbox).
-#}
with

inbox_files as (

    select * from {{ ref('int_inbox_files_canonical') }}

),

submissions_ranked as (

    select * from {{ ref('int_submissions_ranked_latest') }}

),

latest_paths as (

    select
        submission_id,
        source_file
    from submissions_ranked

),

final as (

    select
        ---------- ids
        inbox_files.source_file,
        inbox_files.sha256,
        inbox_files.submission_id,

        ---------- descriptive
        case
            when inbox_files.file_status = 'loaded'
                and submissions_ranked.submission_status = 'superseded'
                then 'superseded'
            else inbox_files.file_status
        end as status,
        inbox_files.unit_name,
        inbox_files.unit_written,
        inbox_files.year,
        inbox_files.month,
        inbox_files.sheet,
        inbox_files.reject_code,
        inbox_files.reason_zh,
        inbox_files.reason_en,
        -- sheet, or file_name: a rejected file's unit/month guessed from its folder and name
        inbox_files.identity_source,
        case
            when submissions_ranked.submission_status = 'superseded'
                then latest_paths.source_file
        end as superseded_by,

        ---------- counts
        inbox_files.rows_read,
        inbox_files.rows_loaded,
        inbox_files.rows_quarantined,
        inbox_files.rows_ignored_blank,

        ---------- dates
        inbox_files.report_date,
        inbox_files.file_mtime,
        inbox_files.received_at,

        ---------- lineage
        inbox_files.load_run_id,
        inbox_files.first_seen_run,
        inbox_files.last_seen_run

    from inbox_files
    left join submissions_ranked
        on inbox_files.submission_id = submissions_ranked.submission_id
        and inbox_files.is_canonical_path
    left join latest_paths
        on submissions_ranked.latest_submission_id = latest_paths.submission_id

)

select * from final
