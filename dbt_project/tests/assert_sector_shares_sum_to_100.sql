{#- Shares of all sectors add up to 100 (±0.05 for rounding) whenever the month has funds. -#}
with

sector_summary as (

    select * from {{ ref('sector_summary') }}

),

share_totals as (

    select
        year,
        month,
        sum(funds_wan) as funds_wan,
        sum(share_pct) as share_pct
    from sector_summary
    group by 1, 2

)

select *
from share_totals
where funds_wan > 0
    and abs(share_pct - 100) > 0.05
