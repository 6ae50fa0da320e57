{#-
    Latest submission wins per (unit, year, month). Which is later (DATA_CONTRACT §3): the
    报告日期 written on the sheet where there is one, else the file's modification time —
    compared as dates, so a sheet dated the 5th beats a file saved on the 4th; on the same
    day the modification time decides, then when a run first saw the file, then the sha256
    (only so that the choice is deterministic).
-#}
with

submissions as (

    select * from {{ ref('int_submissions_active') }}

),

ranked as (

    select
        *,
        coalesce(report_date, cast(file_mtime as date)) as effective_date,
        row_number() over (
            partition by unit_name, year, month
            order by
                coalesce(report_date, cast(file_mtime as date)) desc nulls last,
                file_mtime desc nulls last,
                received_at desc,
                submission_id desc
        ) as submission_rank,
        count(*) over (partition by unit_name, year, month) as submissions_in_month

    from submissions

),

final as (

    select
        ---------- ids
        submission_id,

        ---------- foreign keys
        unit_name,
        year,
        month,

        ---------- descriptive
        submission_rank,
        submission_rank = 1 as is_latest,
        case
            when submission_rank = 1 then 'latest' else 'superseded'
        end as submission_status,
        submissions_in_month,
        first_value(submission_id) over (
            partition by unit_name, year, month order by submission_rank
        ) as latest_submission_id,

        ---------- counts
        rows_loaded,

        ---------- dates
        report_date,
        file_mtime,
        received_at,
        effective_date,

        ---------- lineage
        source_file,
        sheet

    from ranked

)

select * from final
