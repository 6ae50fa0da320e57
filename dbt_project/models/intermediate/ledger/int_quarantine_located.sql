{#-
    Every quarantined row and rejected file ever recorded (the audit trail keeps files that
    have left the inbox; `is_in_inbox` tells them apart). `raw_value` is masked by Python.
-#}
with

quarantine as (

    select * from {{ ref('stg_ledger__quarantine') }}

),

submissions as (

    select * from {{ ref('stg_ledger__submissions') }}

),

inbox_files as (

    select * from {{ ref('stg_ledger__inbox_files') }}

),

contents_in_inbox as (

    select distinct sha256
    from inbox_files
    where is_in_inbox

),

joined as (

    select
        ---------- ids
        quarantine.submission_id,
        quarantine.sheet,
        quarantine.row_number,

        ---------- foreign keys
        submissions.unit_name,
        submissions.year,
        submissions.month,

        ---------- descriptive
        quarantine.column_name,
        quarantine.column_letter,
        quarantine.header,
        quarantine.raw_value,
        quarantine.reason_code,
        quarantine.reason_zh,
        quarantine.reason_en,
        quarantine.decision,
        contents_in_inbox.sha256 is not null as is_in_inbox,

        ---------- lineage
        quarantine.source_file,
        quarantine.submission_id as sha256

    from quarantine
    left join submissions
        on quarantine.submission_id = submissions.submission_id
    left join contents_in_inbox
        on quarantine.submission_id = contents_in_inbox.sha256

)

select * from joined
