{#-
    The USCC check (GB 32100-2015) of every investor code the flag rules see; the
    expressions are macros/uscc.sql (checked against zhaoshang.generate.uscc, the
    generator's, on shared cases in tests/agreement).
-#}
with

project_rows as (

    select * from {{ ref('int_project_rows_latest') }}

),

usccs as (

    select distinct upper(trim(investor_uscc)) as investor_uscc_key
    from project_rows
    where nullif(trim(investor_uscc), '') is not null

),

formatted as (

    select
        investor_uscc_key,
        {{ uscc_format_ok('investor_uscc_key') }} as uscc_format_ok
    from usccs

),

checked as (

    select
        investor_uscc_key,
        uscc_format_ok,
        case
            when uscc_format_ok then substr(investor_uscc_key, 3, 6)
        end as uscc_region,
        substr(investor_uscc_key, 18, 1) as uscc_check_char,
        case
            when uscc_format_ok
                then {{ uscc_expected_check_char('investor_uscc_key') }}
        end as uscc_expected_check_char
    from formatted

),

final as (

    select
        ---------- ids
        investor_uscc_key,

        ---------- descriptive
        uscc_format_ok,
        uscc_region,
        uscc_check_char,
        uscc_expected_check_char,
        coalesce(
            uscc_format_ok and uscc_check_char = uscc_expected_check_char, false
        ) as uscc_check_ok

    from checked

)

select * from final
