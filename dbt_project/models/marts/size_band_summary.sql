{#-
    New projects (引进项目) by investment scale, year to date, every band every month.
    funds_wan are the headline funds of those projects (金融贷款 has no project and no band);
    major_projects counts 重大项目 (计划总投资 ≥ rule_parameters.major_project_min_wan).
    A new project without 计划总投资 has no band and is not in this table. The verified_*
    columns (核实数) leave out the rows with an open or confirmed blocking flag.
-#}
with

spine as (

    select * from {{ ref('int_year_month_spine') }}

),

size_bands as (

    select * from {{ ref('size_bands') }}

),

projects_accumulated as (

    select * from {{ ref('int_projects_accumulated_to_month') }}

),

projects_verified as (

    select * from {{ ref('int_projects_verified_to_month') }}

),

excluded_by_band as (

    select
        year,
        month,
        size_band,
        count(*) filter (where is_new_project_excluded) as new_projects_excluded,
        sum(funds_excluded_wan) as funds_excluded_wan
    from projects_verified
    where is_new
    group by 1, 2, 3

),

summed_by_band as (

    select
        year,
        month,
        size_band,
        count(*) as new_projects,
        count(*) filter (where is_major) as major_projects,
        sum(headline_funds_ytd_wan) as funds_wan
    from projects_accumulated
    where is_new
    group by 1, 2, 3

),

final as (

    select
        spine.year,
        spine.month,
        size_bands.size_band,
        size_bands.label_zh as size_band_zh,
        size_bands.sort_order as size_band_order,
        coalesce(summed_by_band.new_projects, 0) as new_projects,
        coalesce(summed_by_band.funds_wan, 0) as funds_wan,
        coalesce(summed_by_band.major_projects, 0) as major_projects,
        coalesce(summed_by_band.new_projects, 0)
        - coalesce(excluded_by_band.new_projects_excluded, 0) as verified_new_projects,
        coalesce(summed_by_band.funds_wan, 0)
        - coalesce(excluded_by_band.funds_excluded_wan, 0) as verified_funds_wan
    from spine
    cross join size_bands
    left join summed_by_band
        on spine.year = summed_by_band.year
        and spine.month = summed_by_band.month
        and size_bands.size_band = summed_by_band.size_band
    left join excluded_by_band
        on spine.year = excluded_by_band.year
        and spine.month = excluded_by_band.month
        and size_bands.size_band = excluded_by_band.size_band

)

select * from final
