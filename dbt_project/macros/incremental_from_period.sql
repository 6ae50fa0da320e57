{#-
    Incremental nights (models/intermediate/ledger/int_ledger_changes.sql): a model built
    incrementally recomputes the periods from `ledger_changed_from()` on, the first
    (year * 100 + month) whose latest submissions differ from the last build's, and keeps the
    rows before it. The strategy deletes those periods and inserts what the model selected,
    so a withdrawn file's rows go even when nothing replaces them.
-#}

{% macro ledger_changed_from() -%}
    (
        select coalesce(min(changed_from_period), 0)
        from {{ ref('int_ledger_changes') }}
    )
{%- endmacro %}


{% macro get_incremental_replace_from_period_sql(arg_dict) -%}
    {%- set dest_cols_csv = get_quoted_csv(arg_dict["dest_columns"] | map(attribute="name")) -%}
    delete from {{ arg_dict["target_relation"] }}
    where year * 100 + month >= {{ ledger_changed_from() }};

    insert into {{ arg_dict["target_relation"] }} ({{ dest_cols_csv }})
    (
        select {{ dest_cols_csv }}
        from {{ arg_dict["temp_relation"] }}
    )
{%- endmacro %}


{#- This model's table as the night's build file holds it before dbt replaces it (none on a
    full refresh, at parse time, or when the build started from nothing). -#}
{% macro last_build_of_this() -%}
    {%- if execute and not flags.FULL_REFRESH -%}
        {{ return(adapter.get_relation(this.database, this.schema, this.identifier)) }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}
