{#-
    The project's text normalisation in SQL: a call of zhaoshang.reference.normalize_text
    itself (registered as zs_normalize_text by the dbt-duckdb plugin zhaoshang.dbt_plugin, see
    profiles.yml), so office CSVs, project identity and the Python loader cannot disagree:
    invisible characters out, NFKC (full-width forms), whitespace collapsed (U+3000 included),
    trimmed. With drop_spaces=true every space goes (the identity key: "XX 项目" = "XX项目"):
    zhaoshang.reference.project_name_key, the one rule of project identity (UDF
    zs_project_name_key), which the generator's truth and the tests' oracles call too.
-#}
{% macro normalize_text(expression, drop_spaces=false) -%}
    {%- if drop_spaces -%}
        zs_project_name_key({{ expression }})
    {%- else -%}
        zs_normalize_text({{ expression }})
    {%- endif -%}
{%- endmacro %}
