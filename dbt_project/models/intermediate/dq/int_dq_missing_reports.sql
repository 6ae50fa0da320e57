{#-
    Every unit of the roster × every month of its year in which at least one
    unit sent a report that loaded (months up to the latest one the inbox holds;
    a month with no data from anyone is nobody's gap). The unit is missing that
    month when it has no loaded submission in the inbox; if it sent files that
    were all rejected (its unit and month read from the sheet, or guessed from the folder and
    file name), it is only_rejected with each file and reason, never no_report.
-#}
with

units as (

    select * from {{ ref('stg_reference__units') }}

),

submissions as (

    select * from {{ ref('int_submissions_active') }}

),

all_submissions as (

    select * from {{ ref('stg_ledger__submissions') }}

),

inbox_files as (

    select * from {{ ref('stg_ledger__inbox_files') }}

),

months_with_data as (

    select
        year,
        month,
        count(distinct unit_name) as units_reported,
        max(month) over (partition by year) as latest_month
    from submissions
    group by 1, 2

),

roster as (

    select distinct
        unit_name,
        year
    from units
    where unit_name is not null and year is not null

),

reported as (

    select distinct
        unit_name,
        year,
        month
    from submissions

),

rejected as (

    select
        all_submissions.unit_name,
        all_submissions.year,
        all_submissions.month,
        string_agg(
            all_submissions.reason_zh
            || case
                when all_submissions.identity_source = 'file_name'
                    then '（单位或月份据文件夹和文件名推断）'
                else ''
            end,
            '；' order by all_submissions.reason_zh
        ) as rejected_reason
    from all_submissions
    where
        all_submissions.load_status = 'rejected'
        and all_submissions.unit_name is not null
        and all_submissions.sha256 in (
            select inbox_files.sha256
            from inbox_files
            where inbox_files.is_in_inbox
        )
    group by 1, 2, 3

),

final as (

    select
        ---------- ids
        'unit_month|' || roster.unit_name || '|' || roster.year || '|'
        || months_with_data.month as entry_id,
        'unit_month' as entry_kind,

        ---------- foreign keys
        roster.unit_name,
        roster.year,
        months_with_data.month,

        ---------- features
        months_with_data.latest_month,
        months_with_data.units_reported,
        reported.unit_name is not null as has_report,
        rejected.rejected_reason is not null as has_rejected_files,
        rejected.rejected_reason

    from roster
    inner join months_with_data
        on roster.year = months_with_data.year
    left join reported
        on roster.unit_name = reported.unit_name
        and roster.year = reported.year
        and months_with_data.month = reported.month
    left join rejected
        on roster.unit_name = rejected.unit_name
        and roster.year = rejected.year
        and months_with_data.month = rejected.month

)

select * from final
