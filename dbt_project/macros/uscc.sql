{#-
    The USCC check (GB 32100-2015) as expressions on an upper-cased, trimmed code:
    18 characters from 0-9 and A-Y without I, O, S, V, Z; characters 3-8 are digits
    (the registering region's 行政区划代码); the 18th is the check character, the one
    whose value is (31 - sum(value_i * weight_i for i in 1..17) mod 31) mod 31.
    tests/agreement checks them against zhaoshang.generate.uscc on shared cases.
-#}
{% macro uscc_format_ok(code) -%}
    regexp_full_match(
        {{ code }},
        '[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}'
    )
{%- endmacro %}

{% macro uscc_expected_check_char(code) -%}
    substr(
        '0123456789ABCDEFGHJKLMNPQRTUWXY',
        cast((31 - list_sum(list_transform(
            range(1, 18),
            lambda i: (
                instr(
                    '0123456789ABCDEFGHJKLMNPQRTUWXY',
                    substr({{ code }}, cast(i as integer), 1)
                ) - 1
            ) * [
                1, 3, 9, 27, 19, 26, 16, 17, 20,
                29, 25, 13, 8, 24, 10, 30, 28
            ][i]
        )) % 31) % 31 as integer) + 1,
        1
    )
{%- endmacro %}
