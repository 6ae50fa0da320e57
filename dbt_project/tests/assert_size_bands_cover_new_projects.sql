{{ config(severity='warn') }}
{#-
    Warns when a new project has no size band (no 计划总投资): the bands then add up to fewer
    projects than the sectors.
-#}
with

sector_summary as (

    select * from {{ ref('sector_summary') }}

),

size_band_summary as (

    select * from {{ ref('size_band_summary') }}

),

by_sector as (

    select
        year,
        month,
        sum(new_projects) as new_projects
    from sector_summary
    group by 1, 2

),

by_band as (

    select
        year,
        month,
        sum(new_projects) as new_projects
    from size_band_summary
    group by 1, 2

)

select
    by_sector.year,
    by_sector.month,
    by_sector.new_projects,
    by_band.new_projects as banded_new_projects
from by_sector
inner join by_band
    on by_sector.year = by_band.year
    and by_sector.month = by_band.month
where by_sector.new_projects <> by_band.new_projects
