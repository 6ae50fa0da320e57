{#-
    Each unit's year-to-date figures as reported, beside its prorated targets and the year's
    score weights, with the base score (before bonuses, penalties and verification).
    Weights carry forward: a year without rows in score_weights.csv uses the latest earlier
    year's (or the earliest year's, for history before the first policy row).
-#}
with

targets as (

    select * from {{ ref('int_unit_targets_prorated_to_month') }}

),

projects_accumulated as (

    select * from {{ ref('int_projects_accumulated_to_month') }}

),

submissions_ranked as (

    select * from {{ ref('int_submissions_ranked_latest') }}

),

score_weights as (

    select * from {{ ref('score_weights') }}

),

weights_by_year as (

    select
        year,
        sum(weight) filter (where component = 'funds') as funds_weight,
        sum(weight) filter (where component = 'projects') as projects_weight,
        coalesce(
            sum(weight) filter (where component = 'penalty_per_confirmed_flag'), 0
        ) as penalty_per_confirmed_flag
    from score_weights
    group by 1

),

{# a year before the first weights row takes the earliest weights #}
earliest_weights as (

    select *
    from weights_by_year
    where year = (select min(first_year.year) from weights_by_year as first_year)

),

years as (

    select distinct year
    from targets

),

weights_in_force as (

    select
        years.year,
        coalesce(
            weights_by_year.funds_weight, earliest_weights.funds_weight
        ) as funds_weight,
        coalesce(
            weights_by_year.projects_weight, earliest_weights.projects_weight
        ) as projects_weight,
        coalesce(
            weights_by_year.penalty_per_confirmed_flag,
            earliest_weights.penalty_per_confirmed_flag
        ) as penalty_per_confirmed_flag
    from years
    asof left join weights_by_year
        on years.year >= weights_by_year.year
    left join earliest_weights
        on true

),

unit_totals as (

    select
        unit_name,
        year,
        month,
        count(*) as projects_reported,
        count(*) filter (where is_new) as new_projects,
        sum(headline_funds_ytd_wan) as funds_wan,
        sum(continuing_funds_ytd_wan) as continuing_funds_wan
    from projects_accumulated
    group by 1, 2, 3

),

reports_this_month as (

    select distinct
        unit_name,
        year,
        month
    from submissions_ranked

),

joined as (

    select
        ---------- ids
        targets.unit_name,
        targets.year,
        targets.month,

        ---------- descriptive
        targets.unit_type,
        targets.is_on_roster,
        reports_this_month.unit_name is not null as reported_this_month,
        coalesce(unit_totals.projects_reported, 0) as projects_reported,
        coalesce(unit_totals.new_projects, 0) as new_projects,

        ---------- amounts
        coalesce(unit_totals.funds_wan, 0) as funds_wan,
        coalesce(unit_totals.continuing_funds_wan, 0) as continuing_funds_wan,
        targets.target_funds_wan,
        targets.target_projects,
        targets.ytd_target_funds_wan,
        targets.ytd_target_projects,
        targets.elapsed_share,
        targets.elapsed_pct,

        ---------- scoring policy
        weights_in_force.funds_weight,
        weights_in_force.projects_weight,
        weights_in_force.penalty_per_confirmed_flag

    from targets
    left join unit_totals
        on targets.unit_name = unit_totals.unit_name
        and targets.year = unit_totals.year
        and targets.month = unit_totals.month
    left join reports_this_month
        on targets.unit_name = reports_this_month.unit_name
        and targets.year = reports_this_month.year
        and targets.month = reports_this_month.month
    left join weights_in_force
        on targets.year = weights_in_force.year

),

final as (

    select
        *,
        projects_reported = 0
        and funds_wan = 0
        and continuing_funds_wan = 0 as is_blank,
        {{ unit_base_score(
            'funds_wan', 'new_projects', 'target_funds_wan', 'target_projects',
            'month', 'funds_weight', 'projects_weight'
        ) }} as base_score
    from joined

)

select * from final
