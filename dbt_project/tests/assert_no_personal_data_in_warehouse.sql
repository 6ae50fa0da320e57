{#-
    Personal data (columns marked is_pii in seeds/column_map.csv, e.g. contact 联系人及电话)
    never reaches a table analysts can open.

    The test must run in pass 2, after the last table is built. It refs project_register for
    that; the seed is read through the graph instead of ref(), because a ref() to a seed that
    no pass-2 model descends from would keep the test out of both passes (indirect selection
    `buildable`).
-#}
{%- set column_map_relation = none -%}
{%- if execute -%}
    {%- set seed = graph.nodes.values()
        | selectattr('resource_type', 'equalto', 'seed')
        | selectattr('name', 'equalto', 'column_map')
        | first -%}
    {%- set column_map_relation = api.Relation.create(
        database=seed.database, schema=seed.schema, identifier=seed.alias) -%}
{%- endif %}

with

column_map as (

    select * from {{ column_map_relation }}

),

{# not read: the ref only places the test after the marts #}
project_register as (

    select * from {{ ref('project_register') }}

),

warehouse_columns as (

    select
        table_schema,
        table_name,
        column_name
    from information_schema.columns
    where table_catalog = current_database()
        and table_schema in ('staging', 'intermediate', 'marts', 'audit')

)

select warehouse_columns.*
from warehouse_columns
inner join column_map
    on warehouse_columns.column_name = column_map.canonical_name
where column_map.is_pii
