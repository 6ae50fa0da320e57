{#-
    The one implementation of the USCC check (GB 32100-2015) used by the flag
    rules: 18 characters from 0-9 and A-Y without I, O, S, V, Z; characters 3-8
    are digits (the registering region's 行政区划代码); the 18th is the check
    character, the one whose value is (31 - sum(value_i * weight_i for i in
    1..17) mod 31) mod 31.
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
        regexp_full_match(
            investor_uscc_key,
            '[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}'
        ) as uscc_format_ok
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
                then substr(
                    '0123456789ABCDEFGHJKLMNPQRTUWXY',
                    cast((31 - list_sum(list_transform(
                        range(1, 18),
                        lambda i: (
                            instr(
                                '0123456789ABCDEFGHJKLMNPQRTUWXY',
                                substr(investor_uscc_key, cast(i as integer), 1)
                            ) - 1
                        ) * [
                            1, 3, 9, 27, 19, 26, 16, 17, 20,
                            29, 25, 13, 8, 24, 10, 30, 28
                        ][i]
                    )) % 31) % 31 as integer) + 1,
                    1
                )
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
