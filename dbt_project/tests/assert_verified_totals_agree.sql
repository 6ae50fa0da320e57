{#-
    The verified figures (核实数) are the same county totals whichever way they are cut: by
    sector, by unit and (for new projects) by size band.
-#}
with

sector_summary as (

    select * from {{ ref('sector_summary') }}

),

unit_performance as (

    select * from {{ ref('unit_performance') }}

),

size_band_summary as (

    select * from {{ ref('size_band_summary') }}

),

by_sector as (

    select
        year,
        month,
        sum(verified_new_projects) as verified_new_projects,
        sum(verified_funds_wan) as verified_funds_wan
    from sector_summary
    group by 1, 2

),

by_unit as (

    select
        year,
        month,
        sum(verified_new_projects) as verified_new_projects,
        sum(verified_funds_wan) as verified_funds_wan
    from unit_performance
    group by 1, 2

),

by_band as (

    select
        year,
        month,
        sum(new_projects - verified_new_projects) as new_projects_excluded
    from size_band_summary
    group by 1, 2

),

new_projects_without_band as (

    select
        year,
        month,
        sum(new_projects - verified_new_projects) as new_projects_excluded
    from sector_summary
    group by 1, 2

)

select
    by_sector.year,
    by_sector.month,
    by_sector.verified_new_projects,
    by_unit.verified_new_projects as unit_verified_new_projects,
    by_sector.verified_funds_wan,
    by_unit.verified_funds_wan as unit_verified_funds_wan
from by_sector
full outer join by_unit
    on by_sector.year = by_unit.year
    and by_sector.month = by_unit.month
left join by_band
    on by_sector.year = by_band.year
    and by_sector.month = by_band.month
left join new_projects_without_band
    on by_sector.year = new_projects_without_band.year
    and by_sector.month = new_projects_without_band.month
where by_sector.verified_new_projects is distinct from by_unit.verified_new_projects
    or by_sector.verified_funds_wan is distinct from by_unit.verified_funds_wan
    {#- a band can only lose projects the sectors lose (projects without 计划总投资 have none) #}
    or by_band.new_projects_excluded > new_projects_without_band.new_projects_excluded
