{#-
    Personal data (columns marked is_pii in seeds/column_map.csv, e.g. contact 联系人及电话)
    never reaches a table analysts can open.
-#}
with

column_map as (

    select * from {{ ref('column_map') }}

),

{#- the ref puts this test in pass 2, after the last table is built -#}
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
