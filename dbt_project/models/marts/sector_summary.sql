{#-
    The leaders' table (seed report, 上半年): by sector, year to date. Every sector of
    seeds/sectors.csv appears every month, with zeros. share_pct is the sector's part of all
    headline funds including 金融贷款; NULL while the county has no funds at all.
-#}
with

spine as (

    select * from {{ ref('int_year_month_spine') }}

),

sectors as (

    select * from {{ ref('sectors') }}

),

projects_accumulated as (

    select * from {{ ref('int_projects_accumulated_to_month') }}

),

projects_verified as (

    select * from {{ ref('int_projects_verified_to_month') }}

),

excluded_by_sector as (

    select
        year,
        month,
        sector,
        count(*) filter (where is_new_project_excluded) as new_projects_excluded,
        sum(funds_excluded_wan) as funds_excluded_wan,
        sum(continuing_funds_excluded_wan) as continuing_funds_excluded_wan
    from projects_verified
    group by 1, 2, 3

),

summed_by_sector as (

    select
        year,
        month,
        sector,
        count(*) filter (where is_new) as new_projects,
        sum(headline_funds_ytd_wan) as funds_wan,
        sum(continuing_funds_ytd_wan) as continuing_funds_wan
    from projects_accumulated
    group by 1, 2, 3

),

every_sector_every_month as (

    select
        spine.year,
        spine.month,
        sectors.sector,
        sectors.sector_en,
        sectors.sort_order as sector_order,
        sectors.counts_projects,
        coalesce(summed_by_sector.new_projects, 0) as new_projects,
        coalesce(summed_by_sector.funds_wan, 0) as funds_wan,
        coalesce(summed_by_sector.continuing_funds_wan, 0) as continuing_funds_wan,
        coalesce(summed_by_sector.new_projects, 0)
        - coalesce(excluded_by_sector.new_projects_excluded, 0) as verified_new_projects,
        coalesce(summed_by_sector.funds_wan, 0)
        - coalesce(excluded_by_sector.funds_excluded_wan, 0) as verified_funds_wan,
        coalesce(summed_by_sector.continuing_funds_wan, 0)
        - coalesce(excluded_by_sector.continuing_funds_excluded_wan, 0)
            as verified_continuing_funds_wan
    from spine
    cross join sectors
    left join summed_by_sector
        on spine.year = summed_by_sector.year
        and spine.month = summed_by_sector.month
        and sectors.sector = summed_by_sector.sector
    left join excluded_by_sector
        on spine.year = excluded_by_sector.year
        and spine.month = excluded_by_sector.month
        and sectors.sector = excluded_by_sector.sector

),

final as (

    select
        year,
        month,
        sector,
        sector_en,
        sector_order,
        new_projects,
        funds_wan,
        round(
            100.0 * funds_wan
            / nullif(sum(funds_wan) over (partition by year, month), 0),
            4
        ) as share_pct,
        continuing_funds_wan,
        verified_new_projects,
        verified_funds_wan,
        round(
            100.0 * verified_funds_wan
            / nullif(sum(verified_funds_wan) over (partition by year, month), 0),
            4
        ) as verified_share_pct,
        verified_continuing_funds_wan
    from every_sector_every_month

)

select * from final
