{#-
    The quality stage's flags with the inspection team's decisions, for the verified figures
    and the marts (which never read audit); audit.dq_flags publishes these rows. dq.gx_flags is
    written into the build file between the two dbt passes, so this pass-2 model reads the
    source directly (no staging model can exist for it in pass 1). Decisions come from
    raw/reference/flag_decisions.csv (staged in pass 1) and from the decisions store, which
    zhaoshang.triage writes as dq.flag_decisions before pass 2; the latest decision wins.
    One flag per entry × rule × signal. A decision filed under the flag's rule_flag_key (the
    key of the one flag per entry × rule before flags were split by signal) holds for each of
    its signals until someone decides on the new flag_key.
-#}
with

gx_flags as (

    select * from {{ source('dq', 'gx_flags') }}

),

csv_decisions as (

    select
        flag_key,
        decision,
        decided_by,
        decided_at,
        note
    from {{ ref('stg_reference__flag_decisions') }}

),

store_decisions as (

    {{ optional_source('dq', 'flag_decisions', [
        ['flag_key', 'varchar'], ['decision', 'varchar'], ['decided_by', 'varchar'],
        ['decided_at', 'timestamp'], ['note', 'varchar']
    ]) }}

),

flag_decisions as (

    select *
    from (
        select
            *,
            0 as source_order
        from csv_decisions
        union all
        select
            *,
            1 as source_order
        from store_decisions
    ) as all_decisions
    qualify row_number() over (
        partition by flag_key
        order by decided_at desc nulls last, source_order desc
    ) = 1

),

verification_rules as (

    select * from {{ ref('verification_rules') }}

),

dq_rules as (

    select * from {{ ref('dq_rules') }}

),

decided as (

    select
        ---------- ids
        gx_flags.flag_key,

        ---------- descriptive
        gx_flags.rule,
        dq_rules.rule_zh,
        gx_flags.signal,
        dq_rules.signal_zh,
        gx_flags.severity,
        coalesce(verification_rules.is_blocking, false) as is_blocking,
        case
            when
                coalesce(flag_decisions.decision, rule_decisions.decision)
                in ('confirmed', 'dismissed', 'follow_up')
                then coalesce(flag_decisions.decision, rule_decisions.decision)
            else 'open'
        end as status,
        gx_flags.unit_name,
        gx_flags.year,
        gx_flags.month,
        gx_flags.project_name,
        gx_flags.evidence,
        coalesce(flag_decisions.decided_by, rule_decisions.decided_by) as decided_by,
        coalesce(flag_decisions.decided_at, rule_decisions.decided_at) as decided_at,
        coalesce(flag_decisions.note, rule_decisions.note) as note,

        ---------- lineage
        gx_flags.submission_id,
        gx_flags.source_file,
        gx_flags.sheet,
        gx_flags.row_number,
        gx_flags.entry_id,
        gx_flags.rule_flag_key,
        gx_flags.detected_run_id

    from gx_flags
    left join flag_decisions
        on gx_flags.flag_key = flag_decisions.flag_key
    left join flag_decisions as rule_decisions
        on gx_flags.rule_flag_key = rule_decisions.flag_key
    left join verification_rules
        on gx_flags.rule = verification_rules.rule
    left join dq_rules
        on
            gx_flags.rule = dq_rules.rule
            and gx_flags.signal = dq_rules.signal

)

select * from decided
