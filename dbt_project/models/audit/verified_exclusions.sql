with

project_rows_excluded as (

    select * from {{ ref('int_project_rows_excluded') }}

)

select * from project_rows_excluded
