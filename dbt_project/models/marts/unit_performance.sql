{#-
    Each unit's year-to-date performance (目标管理考核) as of each month: reported figures,
    "时间过半、任务过半" (completion of the annual funds target against elapsed time m/12),
    the score in its parts, the rank, the open flags, and the verified figures beside the
    reported ones. Rank is the standard competition rank (1, 2, 2, 4) by score, highest first.
-#}
with

units_accumulated as (

    select * from {{ ref('int_units_accumulated_to_month') }}

),

verified_exclusions as (

    select * from {{ ref('int_units_verified_to_month') }}

),

dq_flags as (

    select * from {{ ref('int_flags_decided') }}

),

score_adjustments as (

    select * from {{ ref('stg_reference__score_adjustments') }}

),

missing_reports as (

    select * from {{ ref('int_dq_missing_reports') }}

),

refused_this_month as (

    select
        unit_name,
        year,
        month,
        rejected_reason
    from missing_reports
    where not has_report and has_rejected_files

),

flags_to_month as (

    select
        units_accumulated.unit_name,
        units_accumulated.year,
        units_accumulated.month,
        count(*) filter (where dq_flags.status in ('open', 'follow_up')) as open_flags,
        count(*) filter (where dq_flags.status = 'confirmed') as confirmed_flags
    from units_accumulated
    inner join dq_flags
        on units_accumulated.unit_name = dq_flags.unit_name
        and units_accumulated.year = dq_flags.year
        and coalesce(dq_flags.month, 1) <= units_accumulated.month
    group by 1, 2, 3

),

adjustments_by_year as (

    select
        unit_name,
        year,
        sum(points) filter (where adjustment_kind = 'bonus') as bonus_points,
        sum(points) filter (where adjustment_kind = 'penalty') as penalty_points
    from score_adjustments
    group by 1, 2

),

joined as (

    select
        units_accumulated.*,
        coalesce(flags_to_month.open_flags, 0) as open_flags,
        coalesce(flags_to_month.confirmed_flags, 0) as confirmed_flags,
        coalesce(adjustments_by_year.bonus_points, 0) as bonus_points,
        coalesce(adjustments_by_year.penalty_points, 0)
        + coalesce(flags_to_month.confirmed_flags, 0)
        * units_accumulated.penalty_per_confirmed_flag as penalty_points,
        units_accumulated.new_projects
        - coalesce(verified_exclusions.new_projects_excluded, 0)
            as verified_new_projects,
        units_accumulated.funds_wan
        - coalesce(verified_exclusions.funds_excluded_wan, 0)
            as verified_funds_wan,
        refused_this_month.rejected_reason

    from units_accumulated
    left join refused_this_month
        on units_accumulated.unit_name = refused_this_month.unit_name
        and units_accumulated.year = refused_this_month.year
        and units_accumulated.month = refused_this_month.month
    left join flags_to_month
        on units_accumulated.unit_name = flags_to_month.unit_name
        and units_accumulated.year = flags_to_month.year
        and units_accumulated.month = flags_to_month.month
    left join adjustments_by_year
        on units_accumulated.unit_name = adjustments_by_year.unit_name
        and units_accumulated.year = adjustments_by_year.year
    left join verified_exclusions
        on units_accumulated.unit_name = verified_exclusions.unit_name
        and units_accumulated.year = verified_exclusions.year
        and units_accumulated.month = verified_exclusions.month

),

scored as (

    select
        *,
        100.0 * funds_wan / nullif(target_funds_wan, 0) as completion_share,
        case
            when is_blank then 0
            else base_score + bonus_points - penalty_points
        end as unrounded_score,
        case
            when is_blank then 0
            else {{ unit_base_score(
                'verified_funds_wan', 'verified_new_projects',
                'target_funds_wan', 'target_projects',
                'month', 'funds_weight', 'projects_weight'
            ) }} + bonus_points - penalty_points
        end as unrounded_verified_score
    from joined

),

final as (

    select
        ---------- ids
        year,
        month,
        unit_name,

        ---------- descriptive
        unit_type,
        is_on_roster,
        reported_this_month,
        is_blank,
        open_flags,
        confirmed_flags,

        ---------- reported figures
        new_projects,
        funds_wan,
        continuing_funds_wan,
        projects_reported,

        ---------- targets and schedule
        target_funds_wan,
        target_projects,
        round(ytd_target_funds_wan, 4) as ytd_target_funds_wan,
        round(completion_share, 4) as completion_pct,
        elapsed_pct,
        round(completion_share - 100.0 * elapsed_share, 4) as schedule_gap_pct,
        case
            when completion_share >= 100.0 * elapsed_share then '超进度'
            when completion_share < 100.0 * elapsed_share then '欠进度'
        end as schedule_status_zh,

        ---------- score
        round(case when is_blank then 0 else base_score end, 4) as base_score,
        bonus_points,
        penalty_points,
        round(unrounded_score, 4) as score,
        rank() over (
            partition by year, month order by round(unrounded_score, 4) desc
        ) as rank,
        -- a score without this month's report because every file sent for it was refused
        case
            when rejected_reason is not null
                then '本月报表被拒收，未计入本月数据：' || rejected_reason
        end as score_note_zh,

        ---------- verified figures (核实数)
        verified_new_projects,
        verified_funds_wan,
        round(unrounded_verified_score, 4) as verified_score,
        rank() over (
            partition by year, month
            order by round(unrounded_verified_score, 4) desc
        ) as verified_rank

    from scored

)

select * from final
