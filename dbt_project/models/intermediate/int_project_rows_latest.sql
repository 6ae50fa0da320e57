{#-
    The rows every figure is built from: the project rows of the latest submission of each
    (unit, year, month). Adds the as-reported project identity (DATA_CONTRACT §4): unit, the
    project name with whitespace and zero-width characters removed (Python already applied
    NFKC), and the investor's USCC; project_id = md5 of the three joined by '|'.
    credited_funds_period_wan is the unit's part of the funds: 本单位计入比例 (credit_share_pct,
    100 when not given) of 本期到位资金, for a project several units introduced together.
    金融贷款 (a sector without project count) has no size band.
    Incremental: a night recomputes the periods from the first changed one (macros/
    incremental_from_period.sql); a period's rows depend on that period's submission only.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='replace_from_period',
        on_schema_change='fail'
    )
}}

-- depends_on: {{ ref('int_ledger_changes') }}

with

project_rows as (

    select * from {{ ref('int_project_rows_active') }}

),

submissions_ranked as (

    select * from {{ ref('int_submissions_ranked_latest') }}

),

size_bands as (

    select * from {{ ref('size_bands') }}

),

sectors as (

    select * from {{ ref('sectors') }}

),

rule_parameters as (

    select * from {{ ref('rule_parameters') }}

),

major_threshold as (

    select cast(value as decimal(18, 4)) as major_project_min_wan
    from rule_parameters
    where parameter = 'major_project_min_wan'

),

rows_of_latest_submission as (

    select project_rows.*
    from project_rows
    inner join submissions_ranked
        on project_rows.submission_id = submissions_ranked.submission_id
    where submissions_ranked.is_latest
    {%- if is_incremental() %}
        and project_rows.year * 100 + project_rows.month >= {{ ledger_changed_from() }}
    {%- endif %}

),

identified as (

    select
        *,
        {{ normalize_text('project_name', drop_spaces=true) }} as project_name_key,
        coalesce(upper(trim(investor_uscc)), '') as investor_uscc_key
    from rows_of_latest_submission

),

final as (

    select
        ---------- ids
        md5(
            identified.unit_name || '|'
            || identified.project_name_key || '|'
            || identified.investor_uscc_key
        ) as project_id,
        md5(
            identified.project_name_key || '|' || identified.investor_uscc_key
        ) as project_key_across_units,
        identified.submission_id,
        identified.sheet,
        identified.row_number,
        identified.seq,
        identified.ledger_id,

        ---------- foreign keys
        identified.unit_name,
        identified.year,
        identified.month,

        ---------- descriptive
        identified.project_name,
        identified.project_name_key,
        identified.investor_name,
        identified.investor_uscc,
        identified.capital_origin,
        identified.sector,
        identified.project_kind,
        identified.project_status,
        identified.is_high_tech,
        identified.signing_event,
        identified.evidence_type,
        case when sectors.counts_projects then size_bands.size_band end
            as size_band,
        coalesce(
            sectors.counts_projects
            and identified.total_investment_wan
            >= major_threshold.major_project_min_wan,
            false
        ) as is_major,

        ---------- amounts
        identified.total_investment_wan,
        identified.contract_amount_wan,
        identified.funds_period_wan,
        cast(
            identified.funds_period_wan
            * coalesce(identified.credit_share_pct, 100) / 100
            as decimal(18, 4)
        ) as credited_funds_period_wan,
        identified.funds_cumulative_wan,
        identified.foreign_usd_wan,
        identified.credit_share_pct,

        ---------- dates
        identified.signed_date,
        identified.start_date,
        identified.entity_registration_date,

        ---------- lineage
        identified.source_file,
        identified.sha256

    from identified
    left join major_threshold on true
    left join sectors
        on identified.sector = sectors.sector
    left join size_bands
        on identified.total_investment_wan >= size_bands.lower_wan
        and (
            size_bands.upper_wan is null
            or identified.total_investment_wan < size_bands.upper_wan
        )

)

select * from final
