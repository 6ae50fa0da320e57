{#-
    The quality stage's flags with the inspection team's decisions, for the verified figures
    and the marts (which never read audit). dq.gx_flags is written into the build file between
    the two dbt passes, so this pass-2 model reads the source directly. Decisions come from
    raw/reference/flag_decisions.csv (staged in pass 1) and from the decisions store, which
    zhaoshang.triage writes as dq.flag_decisions before pass 2; the latest decision wins.
    audit.dq_flags publishes the same rows (tests/assert_dq_flags_are_the_decided_flags.sql).
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

rule_names as (

    select distinct
        rule,
        rule_zh
    from dq_rules

),

{# a flag may carry several signals (above_total_investment,above_contract): name each #}
flag_signals as (

    select
        flag_key,
        trim(unnest(string_split(signal, ','))) as signal,
        generate_subscripts(string_split(signal, ','), 1) as signal_position
    from gx_flags

),

signal_names as (

    select
        flag_signals.flag_key,
        string_agg(
            coalesce(dq_rules.signal_zh, flag_signals.signal),
            '；'
            order by flag_signals.signal_position
        ) as signal_zh
    from flag_signals
    left join dq_rules
        on flag_signals.signal = dq_rules.signal
    group by 1

),

decided as (

    select
        ---------- ids
        gx_flags.flag_key,

        ---------- descriptive
        gx_flags.rule,
        coalesce(rule_names.rule_zh, gx_flags.rule) as rule_zh,
        gx_flags.signal,
        signal_names.signal_zh,
        gx_flags.severity,
        coalesce(verification_rules.is_blocking, false) as is_blocking,
        case
            when flag_decisions.decision in ('confirmed', 'dismissed', 'follow_up')
                then flag_decisions.decision
            else 'open'
        end as status,
        gx_flags.unit_name,
        gx_flags.year,
        gx_flags.month,
        gx_flags.project_name,
        gx_flags.evidence,
        flag_decisions.decided_by,
        flag_decisions.decided_at,
        flag_decisions.note,

        ---------- lineage
        gx_flags.submission_id,
        gx_flags.source_file,
        gx_flags.sheet,
        gx_flags.row_number,
        gx_flags.entry_id,
        gx_flags.detected_run_id

    from gx_flags
    left join flag_decisions
        on gx_flags.flag_key = flag_decisions.flag_key
    left join verification_rules
        on gx_flags.rule = verification_rules.rule
    left join rule_names
        on gx_flags.rule = rule_names.rule
    left join signal_names
        on gx_flags.flag_key = signal_names.flag_key

)

select * from decided
