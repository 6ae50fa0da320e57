{#-
    The sheet's own 合计 row against the sum of its project rows, for the latest
    submission of each (unit, year, month): how far the total is above
    (total_excess_wan) and below (total_shortfall_wan) the rows, the largest over
    the amount columns; GX compares them with the tolerance. The ledger keeps no amounts of
    quarantined rows, so their count and row numbers are given instead: a 合计
    larger than the loaded rows may be explained by them (a weaker signal than a
    合计 padded above rows that all loaded).
-#}
with

sheet_totals as (

    select * from {{ ref('int_sheet_totals_active') }}

),

submissions_ranked as (

    select * from {{ ref('int_submissions_ranked_latest') }}

),

project_rows as (

    select * from {{ ref('int_project_rows_active') }}

),

quarantine as (

    select * from {{ ref('int_quarantine_located') }}

),

column_map as (

    select * from {{ ref('column_map') }}

),

latest_totals as (

    select sheet_totals.*
    from sheet_totals
    inner join submissions_ranked
        on sheet_totals.submission_id = submissions_ranked.submission_id
    where submissions_ranked.is_latest

),

totals_long as (

    unpivot latest_totals
    on
        total_investment_wan,
        contract_amount_wan,
        funds_period_wan,
        funds_cumulative_wan,
        foreign_usd_wan
    into name column_name value total_value

),

row_sums as (

    select
        submission_id,
        sheet,
        sum(total_investment_wan) as total_investment_wan,
        sum(contract_amount_wan) as contract_amount_wan,
        sum(funds_period_wan) as funds_period_wan,
        sum(funds_cumulative_wan) as funds_cumulative_wan,
        sum(foreign_usd_wan) as foreign_usd_wan
    from project_rows
    group by 1, 2

),

row_sums_long as (

    unpivot row_sums
    on
        total_investment_wan,
        contract_amount_wan,
        funds_period_wan,
        funds_cumulative_wan,
        foreign_usd_wan
    into name column_name value rows_value

),

compared as (

    select
        totals_long.submission_id,
        totals_long.sheet,
        totals_long.row_number,
        totals_long.column_name,
        column_map.label_zh,
        totals_long.total_value,
        coalesce(row_sums_long.rows_value, 0) as rows_value,
        totals_long.total_value
        - coalesce(row_sums_long.rows_value, 0) as difference,
        {#- shown in the evidence: what differs at the 4 decimals it prints #}
        round(
            abs(totals_long.total_value - coalesce(row_sums_long.rows_value, 0)),
            4
        ) > 0 as is_different

    from totals_long
    left join row_sums_long
        on totals_long.submission_id = row_sums_long.submission_id
        and totals_long.sheet = row_sums_long.sheet
        and totals_long.column_name = row_sums_long.column_name
    left join column_map
        on totals_long.column_name = column_map.canonical_name

),

as_text as (

    select
        *,
        cast(cast(total_value as decimal(18, 4)) as varchar) as total_decimal,
        cast(cast(rows_value as decimal(18, 4)) as varchar) as rows_decimal,
        cast(cast(abs(difference) as decimal(18, 4)) as varchar)
            as difference_decimal
    from compared

),

formatted as (

    {#- 1200.5000 -> 1200.5 and 2080.0000 -> 2080 (the scale keeps a point) -#}
    select
        *,
        rtrim(rtrim(total_decimal, '0'), '.') as total_text,
        rtrim(rtrim(rows_decimal, '0'), '.') as rows_text,
        rtrim(rtrim(difference_decimal, '0'), '.') as difference_text
    from as_text

),

differences as (

    select
        submission_id,
        sheet,
        row_number,
        count(*) filter (where is_different) as columns_different,
        max(difference) as total_excess_wan,
        max(-difference) as total_shortfall_wan,
        string_agg(
            label_zh || '：合计行' || total_text || '，各项目行之和' || rows_text
            || '，' || case when difference > 0 then '多' else '少' end
            || difference_text,
            '；'
            order by column_name
        ) filter (where is_different) as total_differences

    from formatted
    group by 1, 2, 3

),

quarantined as (

    select
        submission_id,
        sheet,
        count(*) as quarantined_rows,
        string_agg(cast(row_number as varchar), '、' order by row_number)
            as quarantined_row_numbers
    from quarantine
    where decision = 'QUARANTINE-ROW'
    group by 1, 2

),

final as (

    select
        ---------- ids
        latest_totals.submission_id || '|' || latest_totals.sheet || '|'
        || latest_totals.row_number as entry_id,
        'sheet_total' as entry_kind,
        latest_totals.submission_id,
        latest_totals.sheet,
        latest_totals.row_number,

        ---------- foreign keys
        latest_totals.unit_name,
        latest_totals.year,
        latest_totals.month,

        ---------- features
        latest_totals.row_number as total_row_number,
        coalesce(differences.columns_different, 0) as columns_different,
        differences.total_differences,
        differences.total_excess_wan,
        differences.total_shortfall_wan,
        coalesce(quarantined.quarantined_rows, 0) as quarantined_rows,
        quarantined.quarantined_row_numbers,

        ---------- lineage
        latest_totals.source_file

    from latest_totals
    left join differences
        on latest_totals.submission_id = differences.submission_id
        and latest_totals.sheet = differences.sheet
        and latest_totals.row_number = differences.row_number
    left join quarantined
        on latest_totals.submission_id = quarantined.submission_id
        and latest_totals.sheet = quarantined.sheet

)

select * from final
