{#-
    How much of each project's year-to-date figures the verification (核实数) leaves out, as
    of each month (pass 2: it needs the flags). A left-out row takes its funds out of every
    month from its own on, if the project's funds are headline funds as of that month; a new
    project drops out of the verified count once every row reported for it so far is left
    out. The unit, sector and size-band marts subtract these sums, so all three agree; a
    续建 project's left-out funds come off the continuing funds instead.
-#}
with

exclusions as (

    select * from {{ ref('int_project_rows_excluded') }}

),

spine as (

    select * from {{ ref('int_year_month_spine') }}

),

projects_accumulated as (

    select * from {{ ref('int_projects_accumulated_to_month') }}

),

excluded_to_month as (

    select
        exclusions.project_id,
        spine.year,
        spine.month,
        count(*) as rows_excluded,
        sum(exclusions.credited_funds_period_wan) as funds_excluded_wan
    from exclusions
    inner join spine
        on exclusions.year = spine.year
        and exclusions.month <= spine.month
    group by 1, 2, 3

),

final as (

    select
        ---------- ids
        projects_accumulated.project_id,
        projects_accumulated.year,
        projects_accumulated.month,

        ---------- foreign keys
        projects_accumulated.unit_name,

        ---------- descriptive
        projects_accumulated.sector,
        projects_accumulated.size_band,
        projects_accumulated.is_new,
        projects_accumulated.is_new
        and excluded_to_month.rows_excluded = projects_accumulated.rows_ytd
            as is_new_project_excluded,

        ---------- amounts
        case
            when projects_accumulated.is_headline
                then excluded_to_month.funds_excluded_wan
            else 0
        end as funds_excluded_wan,
        case
            when projects_accumulated.is_headline then 0
            else excluded_to_month.funds_excluded_wan
        end as continuing_funds_excluded_wan

    from excluded_to_month
    inner join projects_accumulated
        on excluded_to_month.project_id = projects_accumulated.project_id
        and excluded_to_month.year = projects_accumulated.year
        and excluded_to_month.month = projects_accumulated.month

)

select * from final
