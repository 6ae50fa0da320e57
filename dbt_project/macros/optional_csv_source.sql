{#-
    Select `columns` (all varchar) from an office CSV that may not exist yet.

    DuckDB's read_csv fails on a path or glob that matches no file, and a table function cannot
    take a subquery, so the choice is made in Jinja: at execution time the file is looked for
    with DuckDB's glob(); if it is absent the model selects zero typed rows instead. The path is
    the source's `meta.location` (one place), and calling source() keeps the lineage.
-#}
{% macro optional_csv_source(source_name, table_name, columns) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- set file_exists = false -%}
    {%- if execute -%}
        {%- set node = graph.sources.values()
            | selectattr('source_name', 'equalto', source_name)
            | selectattr('name', 'equalto', table_name)
            | first -%}
        {%- set location = node.config.meta.get('location') or node.meta.get('location') -%}
        {%- if not location -%}
            {{ exceptions.raise_compiler_error(
                "source " ~ source_name ~ "." ~ table_name ~ " has no meta.location") }}
        {%- endif -%}
        {%- set found = run_query(
            "select count(*) from glob('" ~ location | replace("'", "''") ~ "')"
        ).columns[0].values()[0] -%}
        {%- set file_exists = found > 0 -%}
    {%- endif -%}
    {%- if file_exists %}
    select
        {%- for column in columns %}
        cast({{ column }} as varchar) as {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ relation }}
    {%- else %}
    {#- the file is absent: zero rows with the same columns #}
    select
        {%- for column in columns %}
        cast(null as varchar) as {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    where false
    {%- endif %}
{%- endmacro %}
