{#-
    Cross-row features of every latest project row, computed once for the flag
    rules; GX gives the verdict on the *_signal columns (NULL = clean; else the
    signals of dq_rules.csv that fire, comma-separated) and zhaoshang.quality
    turns the evidence columns into Chinese text.

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

dq_rules as (

    select * from {{ ref('dq_rules') }}

),

rule_parameters as (

    select * from {{ ref('rule_parameters') }}

),

rule_thresholds as (

    select
        max(threshold) filter (
            where signal = 'earlier_year_same_project'
        ) as name_similarity_min,
        max(threshold) filter (
            where signal = 'above_total_investment'
        ) as above_total_tolerance_wan,
        max(threshold) filter (
            where signal = 'above_contract'
        ) as above_contract_tolerance_wan,
        max(threshold) filter (
            where signal = 'cumulative_backwards'
        ) as backwards_tolerance_wan,
        max(threshold) filter (
            where signal = 'cumulative_mismatch'
        ) as mismatch_tolerance_wan,
        max(threshold) filter (
            where signal = 'shares_over_100'
        ) as max_share_sum_pct
    from dq_rules

),

amount_parameters as (

    select
        max(try_cast(value as double)) filter (
            where parameter = 'yuan_as_wan_ratio'
        ) as yuan_as_wan_ratio,
        max(try_cast(value as double)) filter (
            where parameter = 'max_amount_wan'
        ) as max_amount_wan,
        max(value) filter (
            where parameter = 'claim_name_place_prefix'
        ) as claim_name_place_prefix
    from rule_parameters

),

thresholds as (

    select
        rule_thresholds.*,
        amount_parameters.*
    from rule_thresholds
    cross join amount_parameters

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
                    thresholds.claim_name_place_prefix,
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
    cross join thresholds

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
        round(
            jaro_winkler_similarity(
                new_rows.name_base_key, earlier.name_base_key
            ),
            2
        ) as name_similarity,
        coalesce(new_rows.phase_marker, '')
        = coalesce(earlier.phase_marker, '') as is_same_phase

    from new_rows
    inner join rows_named as earlier
        on new_rows.investor_uscc_key = earlier.investor_uscc_key
        and new_rows.year > earlier.year
        and earlier.counts_projects
        and earlier.name_base_key <> ''
    cross join thresholds
    where
        jaro_winkler_similarity(
            new_rows.name_base_key, earlier.name_base_key
        ) >= thresholds.name_similarity_min

),

earlier_best_match as (

    select
        *,
        count(*) over (partition by entry_id) as earlier_match_count
    from earlier_candidates
    qualify row_number() over (
        partition by entry_id
        order by
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
    cross join thresholds
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
                ) >= thresholds.name_similarity_min
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
        report_repeats.same_report_rows,
        thresholds.*

    from rows_claimed
    cross join thresholds
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
        earlier_year is not null as earlier_report_match,
        phase_marker is not null
        and not coalesce(is_same_phase, true) as is_phase_two,
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
        end as cumulative_expected_wan,
        case
            when total_investment_wan > 0
                then round(
                    greatest(
                        coalesce(funds_period_wan, 0),
                        coalesce(funds_cumulative_wan, 0)
                    ) / total_investment_wan,
                    1
                )
        end as funds_to_investment_ratio,
        '{{ env_var("ZHAOSHANG_COUNTY_CODE") }}' as county_code  -- noqa: LT05

    from joined

),

signals as (

    select
        *,
        case
            when earlier_year is null then null
            when is_same_phase then 'earlier_year_same_project'
            when has_own_contract then null
            else 'phase_two_unverified'
        end as old_as_new_signal,
        total_investment_wan > 0
        and largest_funds_wan >= yuan_as_wan_ratio * total_investment_wan
            as is_yuan_as_wan
    from features

),

final as (

    select
        *,
        nullif(concat_ws(
            ',',
            case when is_yuan_as_wan then 'yuan_as_wan' end,
            case
                when largest_amount_wan > max_amount_wan then 'absurd_amount'
            end,
            case
                when not coalesce(is_yuan_as_wan, false)
                    and total_investment_wan > 0
                    and funds_cumulative_or_period_wan
                    > total_investment_wan + above_total_tolerance_wan
                    then 'above_total_investment'
            end,
            case
                when not coalesce(is_yuan_as_wan, false)
                    and contract_amount_wan > 0
                    and funds_cumulative_or_period_wan
                    > contract_amount_wan + above_contract_tolerance_wan
                    then 'above_contract'
            end,
            case
                when funds_cumulative_wan
                    < previous_cumulative_wan - backwards_tolerance_wan
                    then 'cumulative_backwards'
            end,
            case
                when is_previous_month
                    and not funds_cumulative_wan
                    < previous_cumulative_wan - backwards_tolerance_wan
                    and abs(funds_cumulative_wan - cumulative_expected_wan)
                    > mismatch_tolerance_wan
                    then 'cumulative_mismatch'
            end
        ), '') as inflated_amount_signal,
        nullif(concat_ws(
            ',',
            case
                when claiming_unit_count > 1 and share_sum > max_share_sum_pct
                    then 'shares_over_100'
            end,
            case when same_report_count > 1 then 'repeated_in_report' end
        ), '') as duplicate_claim_signal,
        case
            when capital_origin in ('境外', '省外', '省内县外')
                and uscc_format_ok
                and uscc_region = county_code
                then 'county_registered_investor'
        end as local_as_outside_signal,
        case
            when investor_uscc_key is null then null
            when not uscc_format_ok then 'malformed'
            when not uscc_check_ok then 'check_digit_mismatch'
        end as invalid_uscc_signal

    from signals

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
    funds_to_investment_ratio,

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
    is_phase_two,
    has_own_contract,

    ---------- INFLATED_AMOUNT features
    previous_year,
    previous_month,
    previous_cumulative_wan,
    previous_source_file,
    previous_row_number,
    is_previous_month,
    cumulative_expected_wan,
    yuan_as_wan_ratio,
    max_amount_wan,

    ---------- DUPLICATE_CLAIM features
    name_claim_base,
    claiming_unit_count,
    share_sum,
    claims_detail,
    same_report_count,
    same_report_rows,

    ---------- LOCAL_AS_OUTSIDE and INVALID_USCC features
    county_code,
    uscc_region,
    uscc_format_ok,
    uscc_check_char,
    uscc_expected_check_char,
    uscc_check_ok,

    ---------- signals (GX: each must be NULL)
    old_as_new_signal,
    inflated_amount_signal,
    duplicate_claim_signal,
    local_as_outside_signal,
    invalid_uscc_signal,

    ---------- lineage
    source_file

from final
