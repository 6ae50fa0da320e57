{#-
    Select from a table another stage writes into the build file when it may be absent (a
    build that ran dbt without that stage, e.g. the dbt project's own tests): the relation is
    looked up at execution time and, if missing, zero rows of the given typed columns are
    selected instead. `columns` is a list of [name, type] pairs.
-#}
{% macro optional_source(source_name, table_name, columns) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- set found = none -%}
    {%- if execute -%}
        {%- set found = adapter.get_relation(
            database=relation.database,
            schema=relation.schema,
            identifier=relation.identifier
        ) -%}
    {%- endif -%}
    {%- if found is not none %}
    select
        {%- for name, type in columns %}
        cast({{ name }} as {{ type }}) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ relation }}
    {%- else %}
    select
        {%- for name, type in columns %}
        cast(null as {{ type }}) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
    where false
    {%- endif %}
{%- endmacro %}
