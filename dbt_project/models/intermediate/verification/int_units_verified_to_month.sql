{#-
    How much of each unit's year-to-date figures the verification leaves out: the project
    exclusions of int_projects_verified_to_month summed by unit.
-#}
with

projects_verified as (

    select * from {{ ref('int_projects_verified_to_month') }}

),

summed_by_unit as (

    select
        unit_name,
        year,
        month,
        sum(funds_excluded_wan) as funds_excluded_wan,
        count(*) filter (where is_new_project_excluded) as new_projects_excluded
    from projects_verified
    group by 1, 2, 3

)

select * from summed_by_unit
