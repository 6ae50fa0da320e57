{#- The leaders' tables list every sector and every size band in every month, zeros included. -#}
with

spine as (

    select * from {{ ref('int_year_month_spine') }}

),

sectors as (

    select * from {{ ref('sectors') }}

),

size_bands as (

    select * from {{ ref('size_bands') }}

),

sector_summary as (

    select * from {{ ref('sector_summary') }}

),

size_band_summary as (

    select * from {{ ref('size_band_summary') }}

),

expected as (

    select
        'sector' as dimension,
        spine.year,
        spine.month,
        sectors.sector as member
    from spine
    cross join sectors
    union all
    select
        'size_band' as dimension,
        spine.year,
        spine.month,
        size_bands.size_band as member
    from spine
    cross join size_bands

),

present as (

    select
        'sector' as dimension,
        year,
        month,
        sector as member
    from sector_summary
    union all
    select
        'size_band' as dimension,
        year,
        month,
        size_band as member
    from size_band_summary

)

select * from expected
except
select * from present
