{#-
    The inspection team's decisions, one row per flag: the latest decision wins (by
    decided_at, then by position in the file). The file is optional (no decisions yet).
-#}
with

source as (

    {{ optional_csv_source(
        'reference', 'flag_decisions',
        ['flag_key', 'decision', 'decided_by', 'decided_at', 'note']
    ) }}

),

renamed as (

    select
        ---------- ids
        trim(flag_key) as flag_key,

        ---------- descriptive
        lower(trim(decision)) as decision,
        trim(decided_by) as decided_by,
        note,

        ---------- dates
        try_cast(trim(decided_at) as timestamp) as decided_at,

        ---------- lineage
        row_number() over () as file_row_number

    from source
    where nullif(trim(flag_key), '') is not null

),

latest_decision as (

    select *
    from renamed
    qualify row_number() over (
        partition by flag_key
        order by decided_at desc nulls last, file_row_number desc
    ) = 1

)

select * from latest_decision
