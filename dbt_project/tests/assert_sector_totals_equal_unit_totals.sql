{#- By sector or by unit, the county's year-to-date totals are the same numbers. -#}
with

sector_summary as (

    select * from {{ ref('sector_summary') }}

),

unit_performance as (

    select * from {{ ref('unit_performance') }}

),

by_sector as (

    select
        year,
        month,
        sum(new_projects) as new_projects,
        sum(funds_wan) as funds_wan,
        sum(continuing_funds_wan) as continuing_funds_wan
    from sector_summary
    group by 1, 2

),

by_unit as (

    select
        year,
        month,
        sum(new_projects) as new_projects,
        sum(funds_wan) as funds_wan,
        sum(continuing_funds_wan) as continuing_funds_wan
    from unit_performance
    group by 1, 2

)

select
    by_sector.*,
    by_unit.new_projects as unit_new_projects,
    by_unit.funds_wan as unit_funds_wan,
    by_unit.continuing_funds_wan as unit_continuing_funds_wan
from by_sector
full outer join by_unit
    on by_sector.year = by_unit.year
    and by_sector.month = by_unit.month
where by_sector.new_projects is distinct from by_unit.new_projects
    or by_sector.funds_wan is distinct from by_unit.funds_wan
    or by_sector.continuing_funds_wan is distinct from by_unit.continuing_funds_wan
