{#-
    The office's bonuses (加分) and penalties (扣分), one row per line of the optional file.
    `points` are positive; `kind` says which way they go.
-#}
with

source as (

    {{ optional_csv_source(
        'reference', 'score_adjustments',
        ['year', 'unit_name', 'kind', 'points', 'reason']
    ) }}

),

renamed as (

    select
        ---------- ids
        row_number() over () as adjustment_number,

        ---------- foreign keys
        try_cast(trim(year) as integer) as year,
        {{ normalize_text('unit_name') }} as unit_name,

        ---------- descriptive
        case lower(trim(kind))
            when '加分' then 'bonus'
            when '扣分' then 'penalty'
            else lower(trim(kind))
        end as adjustment_kind,
        reason,

        ---------- amounts
        try_cast(trim(points) as decimal(9, 2)) as points

    from source

)

select * from renamed
