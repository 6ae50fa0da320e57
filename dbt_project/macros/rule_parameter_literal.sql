{#-
    A rule parameter of seeds/rule_parameters.csv as a SQL string literal, read from the seed
    table when the model runs (the seed is built earlier in the same pass).

    Why: a regular expression taken from a column (a cross join with the seed) is not a
    constant to DuckDB, which then compiles it again for every row; for a province's 900,000
    rows that was 60 s of dbt's first pass. Before the seed exists (parsing, a selection without
    it) the macro returns `fallback`, the same value read per row.
-#}
{% macro rule_parameter_literal(parameter, fallback) -%}
    {%- set relation = load_relation(ref('rule_parameters')) if execute else none -%}
    {%- set values = [] -%}
    {%- if relation is not none -%}
        {%- set values = run_query(
            "select value from " ~ relation ~ " where parameter = '"
            ~ parameter | replace("'", "''") ~ "'"
        ).columns[0].values() -%}
    {%- endif -%}
    {%- if values | length == 1 and values[0] is not none -%}
        '{{ values[0] | replace("'", "''") }}'
    {%- else -%}
        {{ fallback }}
    {%- endif -%}
{%- endmacro %}
