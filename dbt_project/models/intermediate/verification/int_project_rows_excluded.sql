{#-
    Which project rows the verified figures (核实数) leave out, and why. A row is left out
    when it carries a flag of a blocking rule (seeds/verification_rules.csv) that the
    inspection team has not dismissed. For a counts-once rule (拼凑挂靠) the project is
    counted once instead: the unit that reported it first (earliest month, then name) keeps
    its first row of each month; every other flagged row of the project is left out.
    Flags on rows that are no longer in the latest submissions change nothing.
-#}
with

dq_flags as (

    select * from {{ ref('int_flags_decided') }}

),

verification_rules as (

    select * from {{ ref('verification_rules') }}

),

project_rows as (

    select * from {{ ref('int_project_rows_latest') }}

),

live_row_flags as (

    select
        dq_flags.flag_key,
        dq_flags.rule,
        dq_flags.status as flag_status,
        verification_rules.counts_once,
        project_rows.submission_id,
        project_rows.sheet,
        project_rows.row_number,
        project_rows.project_key_across_units,
        project_rows.unit_name,
        project_rows.year,
        project_rows.month

    from dq_flags
    inner join verification_rules
        on dq_flags.rule = verification_rules.rule
    inner join project_rows
        on dq_flags.submission_id = project_rows.submission_id
        and dq_flags.sheet = project_rows.sheet
        and dq_flags.row_number = project_rows.row_number
    where verification_rules.is_blocking
        and dq_flags.status <> 'dismissed'

),

claims as (

    select distinct
        project_key_across_units,
        year,
        month,
        unit_name,
        submission_id,
        sheet,
        row_number
    from live_row_flags
    where counts_once

),

first_claimant as (

    select
        project_key_across_units,
        year,
        unit_name
    from claims
    group by 1, 2, 3
    qualify row_number() over (
        partition by project_key_across_units, year
        order by min(month), unit_name
    ) = 1

),

rows_counted_once as (

    select
        claims.submission_id,
        claims.sheet,
        claims.row_number
    from claims
    inner join first_claimant
        on claims.project_key_across_units = first_claimant.project_key_across_units
        and claims.year = first_claimant.year
        and claims.unit_name = first_claimant.unit_name
    qualify row_number() over (
        partition by claims.project_key_across_units, claims.year, claims.month
        order by claims.sheet, claims.row_number
    ) = 1

),

excluding_flags as (

    select live_row_flags.*
    from live_row_flags
    left join rows_counted_once
        on live_row_flags.submission_id = rows_counted_once.submission_id
        and live_row_flags.sheet = rows_counted_once.sheet
        and live_row_flags.row_number = rows_counted_once.row_number
    where not (
        live_row_flags.counts_once
        and rows_counted_once.submission_id is not null
    )

),

flags_per_row as (

    select
        submission_id,
        sheet,
        row_number,
        string_agg(distinct rule, ',' order by rule) as rules,
        list(flag_key order by flag_key) as flag_keys,
        bool_or(flag_status = 'confirmed') as has_confirmed_flag
    from excluding_flags
    group by 1, 2, 3

),

final as (

    select
        ---------- ids
        project_rows.submission_id,
        project_rows.sheet,
        project_rows.row_number,
        project_rows.project_id,

        ---------- foreign keys
        project_rows.unit_name,
        project_rows.year,
        project_rows.month,

        ---------- descriptive
        project_rows.project_name,
        project_rows.sector,
        project_rows.project_kind,
        flags_per_row.rules,
        flags_per_row.flag_keys,
        flags_per_row.has_confirmed_flag,

        ---------- amounts
        project_rows.credited_funds_period_wan,

        ---------- lineage
        project_rows.source_file

    from flags_per_row
    inner join project_rows
        on flags_per_row.submission_id = project_rows.submission_id
        and flags_per_row.sheet = project_rows.sheet
        and flags_per_row.row_number = project_rows.row_number

)

select * from final
