with

file_warnings as (

    select * from {{ ref('stg_ledger__file_warnings') }}

),

submissions as (

    select * from {{ ref('stg_ledger__submissions') }}

),

joined as (

    select
        ---------- ids
        file_warnings.submission_id,
        file_warnings.sheet,
        file_warnings.row_number,

        ---------- foreign keys
        submissions.unit_name,
        submissions.year,
        submissions.month,

        ---------- descriptive
        file_warnings.warning_code,
        file_warnings.message_zh,
        file_warnings.message_en,

        ---------- lineage
        submissions.first_source_file as source_file,
        file_warnings.submission_id as sha256

    from file_warnings
    left join submissions
        on file_warnings.submission_id = submissions.submission_id

)

select * from joined
