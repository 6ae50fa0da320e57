{#-
    The office's roster, typed. Names are normalised like zhaoshang.reference.load_units does
    (the loader resolves sheets to these names); an empty target means 0, as in Python.
    A value that is not a number becomes NULL and fails the not_null test.
    contact_email and feedback are optional columns (read by name through the row's JSON, so a
    roster without them still builds); the address itself stays out of the warehouse: it may be
    a clerk's own mailbox, and analysts only need to know whether the unit gets its receipt.
-#}
with

source as (

    select * from {{ source('reference', 'units') }}

),

renamed as (

    select
        ---------- ids
        {{ normalize_text('unit_name') }} as unit_name,
        try_cast(trim(year) as integer) as year,

        ---------- descriptive
        {{ normalize_text("coalesce(unit_type, '')") }} as unit_type,
        list_filter(
            list_transform(
                string_split(coalesce(aliases, ''), ';'),
                lambda alias: trim(alias)
            ),
            lambda alias: alias <> ''
        ) as aliases,

        ---------- amounts
        case
            when nullif(trim(target_funds_wan), '') is null then 0
            else try_cast(trim(target_funds_wan) as decimal(18, 4))
        end as target_funds_wan,
        case
            when nullif(trim(target_projects), '') is null then 0
            else trunc(try_cast(trim(target_projects) as double))::integer
        end as target_projects,

        ---------- feedback (回执)
        coalesce(trim(to_json(source) ->> 'contact_email'), '') <> '' as has_contact_email,
        nullif(trim(to_json(source) ->> 'feedback'), '') as feedback

    from source

)

select * from renamed
