{#-
    Cross-row features of every latest project row, computed once for the flag
    rules: numbers, booleans and the inputs of each comparison (the earlier
    report a 新引进 row resembles and how closely, the funds above the planned
    investment, the previous cumulative figure, the claiming units' share sum,
    the USCC's region and check character). No verdict here: each signal of
    dq_rules.csv is one expectation of the GX suite dq_findings, whose predicate
    and threshold (seeds/rule_parameters.csv) a reviewer reads there.

    The one constant this model reads, name_similarity_min, defines "the same
    project" for the claim grouping and picks which earlier report a 新引进 row
    is compared with; GX compares the similarity with the same seed value.

    Project identities used here:
    - project_id (int_project_rows_latest): unit + name as written + USCC — a
      unit's own project over the months (cumulative funds);
    - name_claim_key: the name without punctuation or symbols, with investor_key
      (USCC, or the investor's name when there is none) — one project claimed by
      several units;
    - name_base_key: name_claim_key without phase markers (二期…) and the words
      项目/工程, compared by Jaro-Winkler similarity for a lightly reworded name in
      an earlier year;
    - name_claim_base: name_base_key also without a leading place name (夏邑县,
      河南省商丘市: rule_parameters.claim_name_place_prefix) and 建设 — two units'
      claims of one investor's project in one year are the same project when their
      phase markers agree and these are equal or as similar as OLD_AS_NEW's
      threshold (one name-similarity threshold for "same project").
-#}
{#-
    Ephemeral: int_dq_entries is this model's rows with the 合计 and roster entries
    appended, so writing them twice (a province's 900,000 wide rows) cost a table.
-#}
{{ config(materialized='ephemeral') }}

with

project_rows as (

    select * from {{ ref('int_project_rows_latest') }}

),

uscc_checks as (

    select * from {{ ref('int_dq_uscc_checks') }}

),

sectors as (

    select * from {{ ref('sectors') }}

),

rule_parameters as (

    select * from {{ ref('rule_parameters') }}

),

rule_constants as (

    select
        max(try_cast(value as double)) filter (
            where parameter = 'name_similarity_min'
        ) as name_similarity_min,
        max(value) filter (
            where parameter = 'claim_name_place_prefix'
        ) as claim_name_place_prefix
    from rule_parameters

),

rows_keyed as (

    select
        project_rows.*,
        project_rows.submission_id || '|' || project_rows.sheet || '|'
        || project_rows.row_number as entry_id,
        project_rows.year * 12 + project_rows.month as period_index,
        nullif(upper(trim(project_rows.investor_uscc)), '')
            as investor_uscc_key,
        coalesce(sectors.counts_projects, true) as counts_projects,
        regexp_replace(
            lower(project_rows.project_name_key), '[\p{P}\p{S}]', '', 'g'
        ) as name_claim_key,
        nullif(
            regexp_extract(
                upper(project_rows.project_name_key),
                '第?([一二三四五六七八九十]+|[0-9]+|[IVX]+)期',
                0
            ),
            ''
        ) as raw_phase_marker

    from project_rows
    left join sectors
        on project_rows.sector = sectors.sector

),

rows_named as (

    select
        *,
        coalesce(
            investor_uscc_key,
            'name:' || regexp_replace(
                lower(coalesce(investor_name, '')), '[\p{P}\p{S}\s]', '', 'g'
            )
        ) as investor_key,
        regexp_replace(
            regexp_replace(
                name_claim_key,
                '第?([一二三四五六七八九十]+|[0-9]+|[ivx]+)期',
                '',
                'g'
            ),
            '项目|工程',
            '',
            'g'
        ) as name_base_key,
        case
            when raw_phase_marker in (
                '一期', '1期', 'I期', '第一期', '第1期', '第I期'
            ) then null
            else raw_phase_marker
        end as phase_marker

    from rows_keyed

),

rows_claimed as (

    select
        rows_named.*,
        regexp_replace(
            regexp_replace(
                regexp_replace(
                    rows_named.name_claim_key,
                    {{ rule_parameter_literal(
                        'claim_name_place_prefix',
                        'rule_constants.claim_name_place_prefix'
                    ) }},
                    ''
                ),
                '第?([一二三四五六七八九十]+|[0-9]+|[ivx]+)期',
                '',
                'g'
            ),
            '建设|项目|工程',
            '',
            'g'
        ) as name_claim_base

    from rows_named
    cross join rule_constants

),

{# 以旧充新: 新引进 rows against every row of an earlier year with the same USCC #}
new_rows as (

    select *
    from rows_named
    where
        project_kind = '新引进'
        and counts_projects
        and investor_uscc_key is not null
        and name_base_key <> ''

),

earlier_candidates as (

    select
        new_rows.entry_id,
        earlier.unit_name as earlier_unit_name,
        earlier.year as earlier_year,
        earlier.month as earlier_month,
        earlier.project_name as earlier_project_name,
        earlier.source_file as earlier_source_file,
        earlier.sheet as earlier_sheet,
        earlier.row_number as earlier_row_number,
        earlier.phase_marker as earlier_phase_marker,
        jaro_winkler_similarity(
            new_rows.name_base_key, earlier.name_base_key
        ) as name_similarity,
        coalesce(new_rows.phase_marker, '')
        = coalesce(earlier.phase_marker, '') as is_same_phase,
        jaro_winkler_similarity(
            new_rows.name_base_key, earlier.name_base_key
        ) >= rule_constants.name_similarity_min as is_similar_name

    from new_rows
    inner join rows_named as earlier
        on new_rows.investor_uscc_key = earlier.investor_uscc_key
        and new_rows.year > earlier.year
        and earlier.counts_projects
        and earlier.name_base_key <> ''
    cross join rule_constants

),

{#
    The earlier report a 新引进 row is compared with: a similar name first (the
    earliest, same phase before another phase), else the most similar one. GX
    decides from its name_similarity and is_same_phase whether it is a finding.
#}
earlier_best_match as (

    select
        *,
        count(*) filter (where is_similar_name) over (
            partition by entry_id
        ) as earlier_match_count
    from earlier_candidates
    qualify row_number() over (
        partition by entry_id
        order by
            is_similar_name desc,
            is_same_phase desc,
            earlier_year asc,
            earlier_month asc,
            name_similarity desc,
            earlier_source_file asc,
            earlier_row_number asc
    ) = 1

),

{#
    以小充大: the same project's previous report (any earlier month, this unit). A
    新引进 row is compared within its year only: a project re-signed as new
    restarts its cumulative funds, and that an earlier year reported it is the
    以旧充新 finding, not a second one.
#}
project_periods as (

    select
        project_id,
        period_index,
        year as previous_year,
        month as previous_month,
        funds_cumulative_wan as previous_cumulative_wan,
        source_file as previous_source_file,
        row_number as previous_row_number
    from rows_named
    qualify row_number() over (
        partition by project_id, period_index
        order by sheet desc, row_number desc
    ) = 1

),

latest_earlier_periods as (

    select
        rows_named.entry_id,
        rows_named.year,
        rows_named.project_kind,
        project_periods.previous_year,
        project_periods.previous_month,
        project_periods.previous_cumulative_wan,
        project_periods.previous_source_file,
        project_periods.previous_row_number,
        project_periods.period_index = rows_named.period_index - 1
        as is_previous_month

    from rows_named
    asof left join project_periods
        on rows_named.project_id = project_periods.project_id
        and rows_named.period_index > project_periods.period_index

),

previous_reports as (

    select *
    from latest_earlier_periods
    where not (project_kind = '新引进' and previous_year < year)

),

{#
    拼凑挂靠: one investor's project claimed by several units in a year (any months),
    under the same or a similar name; repeats within one report.
#}
claims_by_unit as (

    select
        year,
        investor_key,
        name_claim_base,
        coalesce(phase_marker, '') as claim_phase,
        unit_name,
        max(coalesce(credit_share_pct, 100)) as unit_share_pct,
        min(month) as first_month,
        arg_min(project_name, month * 1000000 + row_number) as first_project_name,
        arg_min(source_file, month * 1000000 + row_number) as first_source_file,
        arg_min(sheet, month * 1000000 + row_number) as first_sheet,
        arg_min(row_number, month * 1000000 + row_number) as first_row_number

    from rows_claimed
    where counts_projects and name_claim_base <> ''
    group by 1, 2, 3, 4, 5

),

claim_matches as (

    select
        claim.year,
        claim.investor_key,
        claim.name_claim_base,
        claim.claim_phase,
        claim.unit_name,
        other.unit_name as other_unit_name,
        max(other.unit_share_pct) as other_share_pct,
        min(other.first_month) as other_first_month,
        arg_min(other.first_project_name, other.first_month) as other_project_name,
        arg_min(other.first_source_file, other.first_month) as other_source_file,
        arg_min(other.first_sheet, other.first_month) as other_sheet,
        arg_min(other.first_row_number, other.first_month) as other_row_number

    from claims_by_unit as claim
    cross join rule_constants
    inner join claims_by_unit as other
        on claim.year = other.year
        and claim.investor_key = other.investor_key
        and claim.claim_phase = other.claim_phase
        and (
            claim.unit_name = other.unit_name
            and claim.name_claim_base = other.name_claim_base
            or claim.unit_name <> other.unit_name
            and (
                claim.name_claim_base = other.name_claim_base
                or jaro_winkler_similarity(
                    claim.name_claim_base, other.name_claim_base
                ) >= rule_constants.name_similarity_min
            )
        )
    group by 1, 2, 3, 4, 5, 6

),

claim_totals as (

    select
        year,
        investor_key,
        name_claim_base,
        claim_phase,
        unit_name,
        count(*) as claiming_unit_count,
        sum(other_share_pct) as share_sum,
        string_agg(
            other_unit_name || '（计入比例'
            || rtrim(
                rtrim(
                    cast(cast(other_share_pct as decimal(18, 4)) as varchar), '0'
                ),
                '.'
            )
            || '%，' || other_first_month || '月起报送“' || other_project_name
            || '”，文件“' || other_source_file || '”工作表“' || other_sheet
            || '”第' || other_row_number || '行）',
            '；'
            order by other_unit_name
        ) as claims_detail

    from claim_matches
    group by 1, 2, 3, 4, 5

),

report_repeats as (

    select
        submission_id,
        sheet,
        investor_key,
        name_claim_key,
        count(*) as same_report_count,
        string_agg(cast(row_number as varchar), '、' order by row_number)
            as same_report_rows

    from rows_named
    where counts_projects and name_claim_key <> ''
    group by 1, 2, 3, 4

),

joined as (

    select
        rows_claimed.*,
        uscc_checks.uscc_format_ok,
        uscc_checks.uscc_region,
        uscc_checks.uscc_check_char,
        uscc_checks.uscc_expected_check_char,
        uscc_checks.uscc_check_ok,
        earlier_best_match.earlier_unit_name,
        earlier_best_match.earlier_year,
        earlier_best_match.earlier_month,
        earlier_best_match.earlier_project_name,
        earlier_best_match.earlier_source_file,
        earlier_best_match.earlier_sheet,
        earlier_best_match.earlier_row_number,
        earlier_best_match.earlier_phase_marker,
        earlier_best_match.name_similarity,
        earlier_best_match.is_same_phase,
        coalesce(earlier_best_match.is_similar_name, false)
            as earlier_report_match,
        coalesce(earlier_best_match.earlier_match_count, 0)
            as earlier_match_count,
        previous_reports.previous_year,
        previous_reports.previous_month,
        previous_reports.previous_cumulative_wan,
        previous_reports.previous_source_file,
        previous_reports.previous_row_number,
        coalesce(previous_reports.is_previous_month, false)
            as is_previous_month,
        claim_totals.claiming_unit_count,
        claim_totals.share_sum,
        claim_totals.claims_detail,
        report_repeats.same_report_count,
        report_repeats.same_report_rows

    from rows_claimed
    left join uscc_checks
        on rows_claimed.investor_uscc_key = uscc_checks.investor_uscc_key
    left join earlier_best_match
        on rows_claimed.entry_id = earlier_best_match.entry_id
    left join previous_reports
        on rows_claimed.entry_id = previous_reports.entry_id
    left join claim_totals
        on rows_claimed.year = claim_totals.year
        and rows_claimed.investor_key = claim_totals.investor_key
        and rows_claimed.name_claim_base = claim_totals.name_claim_base
        and coalesce(rows_claimed.phase_marker, '') = claim_totals.claim_phase
        and rows_claimed.unit_name = claim_totals.unit_name
        and rows_claimed.counts_projects
    left join report_repeats
        on rows_claimed.submission_id = report_repeats.submission_id
        and rows_claimed.sheet = report_repeats.sheet
        and rows_claimed.investor_key = report_repeats.investor_key
        and rows_claimed.name_claim_key = report_repeats.name_claim_key
        and rows_claimed.counts_projects

),

features as (

    select
        *,
        earlier_report_match
        and phase_marker is not null
        and not is_same_phase as is_phase_two,
        coalesce(
            contract_amount_wan > 0
            and signed_date >= make_date(year, 1, 1),
            false
        ) as has_own_contract,
        greatest(
            coalesce(funds_period_wan, 0), coalesce(funds_cumulative_wan, 0)
        ) as largest_funds_wan,
        greatest(
            coalesce(total_investment_wan, 0),
            coalesce(contract_amount_wan, 0),
            coalesce(funds_period_wan, 0),
            coalesce(funds_cumulative_wan, 0)
        ) as largest_amount_wan,
        coalesce(funds_cumulative_wan, funds_period_wan)
            as funds_cumulative_or_period_wan,
        case
            when previous_cumulative_wan is not null
                then previous_cumulative_wan + coalesce(funds_period_wan, 0)
        end as cumulative_expected_wan

    from joined

),

comparisons as (

    {#- the differences GX compares with the tolerances (NULL: nothing to compare) -#}
    select
        *,
        case
            when total_investment_wan > 0
                then largest_funds_wan / total_investment_wan
        end as funds_to_investment_ratio,
        case
            when total_investment_wan > 0
                then funds_cumulative_or_period_wan - total_investment_wan
        end as funds_above_total_investment_wan,
        case
            when contract_amount_wan > 0
                then funds_cumulative_or_period_wan - contract_amount_wan
        end as funds_above_contract_wan,
        previous_cumulative_wan - funds_cumulative_wan as cumulative_drop_wan,
        case
            when is_previous_month
                then abs(funds_cumulative_wan - cumulative_expected_wan)
        end as cumulative_gap_wan

    from features

)

select
    ---------- ids
    entry_id,
    'project_row' as entry_kind,
    project_id,
    submission_id,
    sheet,
    row_number,

    ---------- foreign keys
    unit_name,
    year,
    month,

    ---------- descriptive
    project_name,
    investor_name,
    investor_uscc,
    investor_uscc_key,
    capital_origin,
    sector,
    project_kind,
    credit_share_pct,

    ---------- amounts
    total_investment_wan,
    contract_amount_wan,
    funds_period_wan,
    funds_cumulative_wan,
    funds_cumulative_or_period_wan,
    largest_funds_wan,
    largest_amount_wan,

    ---------- dates
    signed_date,

    ---------- OLD_AS_NEW features
    earlier_report_match,
    earlier_match_count,
    earlier_unit_name,
    earlier_year,
    earlier_month,
    earlier_project_name,
    earlier_source_file,
    earlier_sheet,
    earlier_row_number,
    name_similarity,
    phase_marker,
    earlier_phase_marker,
    is_same_phase,
    is_phase_two,
    has_own_contract,

    ---------- INFLATED_AMOUNT features
    funds_to_investment_ratio,
    funds_above_total_investment_wan,
    funds_above_contract_wan,
    previous_year,
    previous_month,
    previous_cumulative_wan,
    previous_source_file,
    previous_row_number,
    is_previous_month,
    cumulative_expected_wan,
    cumulative_drop_wan,
    cumulative_gap_wan,

    ---------- DUPLICATE_CLAIM features
    name_claim_base,
    claiming_unit_count,
    share_sum,
    claims_detail,
    same_report_count,
    same_report_rows,

    ---------- LOCAL_AS_OUTSIDE and INVALID_USCC features
    uscc_region,
    uscc_format_ok,
    uscc_check_char,
    uscc_expected_check_char,
    uscc_check_ok,

    ---------- lineage
    source_file

from comparisons
