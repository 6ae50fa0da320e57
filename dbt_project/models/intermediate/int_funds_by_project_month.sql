{#-
    A project's report for one month. A project listed twice in one sheet (重复统计) has its
    funds added up here, as the office adds them; the flag rules point at the repetition.
    Descriptive values come from the project's last row in the sheet. credited_funds_wan
    (the unit's 计入比例 of the funds) is what every figure counts.
    Incremental: the periods from the first changed one (macros/incremental_from_period.sql).
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

    select * from {{ ref('int_project_rows_latest') }}
    {%- if is_incremental() %}
        where year * 100 + month >= {{ ledger_changed_from() }}
    {%- endif %}

),

summed as (

    select
        project_id,
        year,
        month,
        count(*) as rows_in_month,
        sum(funds_period_wan) as funds_period_wan,
        sum(credited_funds_period_wan) as credited_funds_wan,
        sum(funds_cumulative_wan) as funds_cumulative_wan

    from project_rows
    group by 1, 2, 3

),

last_row_in_month as (

    select *
    from project_rows
    qualify row_number() over (
        partition by project_id, year, month
        order by sheet desc, row_number desc
    ) = 1

),

final as (

    select
        ---------- ids
        summed.project_id,

        ---------- foreign keys
        last_row_in_month.unit_name,
        summed.year,
        summed.month,

        ---------- descriptive
        last_row_in_month.project_name,
        last_row_in_month.investor_name,
        last_row_in_month.investor_uscc,
        last_row_in_month.capital_origin,
        last_row_in_month.sector,
        last_row_in_month.project_kind,
        last_row_in_month.project_status,
        last_row_in_month.size_band,
        last_row_in_month.is_major,
        last_row_in_month.is_high_tech,
        last_row_in_month.signing_event,
        summed.rows_in_month,

        ---------- amounts
        last_row_in_month.total_investment_wan,
        last_row_in_month.contract_amount_wan,
        last_row_in_month.credit_share_pct,
        summed.funds_period_wan,
        summed.credited_funds_wan,
        summed.funds_cumulative_wan,

        ---------- dates
        last_row_in_month.signed_date,

        ---------- lineage
        last_row_in_month.submission_id,
        last_row_in_month.source_file,
        last_row_in_month.sheet,
        last_row_in_month.row_number

    from summed
    inner join last_row_in_month
        on summed.project_id = last_row_in_month.project_id
        and summed.year = last_row_in_month.year
        and summed.month = last_row_in_month.month

)

select * from final
