{#-
    SQL twin of zhaoshang.reference.normalize_text for text that did not pass through the
    Python loader (the office's CSVs) and for the as-reported project identity: drop
    zero-width and other format characters, collapse whitespace (including U+3000) and trim.
    With drop_spaces=true every space goes (the identity key: "XX 项目" = "XX项目").
    Full-width forms are NFKC'd by Python for ledger values; office CSVs are typed by people
    at a keyboard and are trimmed only.
-#}
{% macro normalize_text(expression, drop_spaces=false) -%}
    {%- set spaces = "'[\\s\\x{00A0}\\x{2000}-\\x{200A}\\x{3000}]+'" -%}
    {%- set without_format_chars -%}
        regexp_replace(
            {{ expression }},
            '[\x{00AD}\x{200B}-\x{200F}\x{202A}-\x{202E}\x{2060}-\x{2064}\x{FEFF}]',
            '',
            'g'
        )
    {%- endset -%}
    {%- if drop_spaces -%}
        regexp_replace({{ without_format_chars }}, {{ spaces }}, '', 'g')
    {%- else -%}
        trim(regexp_replace({{ without_format_chars }}, {{ spaces }}, ' ', 'g'))
    {%- endif -%}
{%- endmacro %}
