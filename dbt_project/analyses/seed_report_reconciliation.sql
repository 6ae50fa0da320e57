{#-
    The seed report's 上半年 table (shared/DOMAIN.md) beside the warehouse's figures for
    2021, month 6: `dbt compile --select seed_report_reconciliation`, then run the compiled SQL
    on a built warehouse. The printed shares are partly wrong in the report; the warehouse
    recomputes them, so only projects and funds are compared.
-#}
with

sector_summary as (

    select * from {{ ref('sector_summary') }}

),

size_band_summary as (

    select * from {{ ref('size_band_summary') }}

),

seed_report (dimension, member, projects, funds_wan) as (

    values
        ('sector', '一产', 27, 4054),
        ('sector', '二产', 274, 59276),
        ('sector', '三产', 104, 23297),
        ('sector', '专项资金', 29, 10433),
        ('sector', '金融贷款', 0, 6645),
        ('size_band', '<300', 328, null),
        ('size_band', '300-499', 47, null),
        ('size_band', '500-999', 37, null),
        ('size_band', '>=1000', 22, null)

),

warehouse as (

    select
        'sector' as dimension,
        sector as member,
        new_projects as projects,
        funds_wan
    from sector_summary
    where year = 2021 and month = 6
    union all
    select
        'size_band' as dimension,
        size_band as member,
        new_projects as projects,
        null as funds_wan
    from size_band_summary
    where year = 2021 and month = 6

),

compared as (

    select
        seed_report.dimension,
        seed_report.member,
        seed_report.projects as report_projects,
        warehouse.projects as warehouse_projects,
        seed_report.funds_wan as report_funds_wan,
        warehouse.funds_wan as warehouse_funds_wan,
        (
            seed_report.projects = warehouse.projects
            and not (seed_report.funds_wan is distinct from warehouse.funds_wan)
        ) as is_reproduced
    from seed_report
    left join warehouse
        on seed_report.dimension = warehouse.dimension
        and seed_report.member = warehouse.member

)

select * from compared
