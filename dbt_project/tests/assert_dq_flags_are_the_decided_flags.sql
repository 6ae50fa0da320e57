{#-
    audit.dq_flags and intermediate.int_flags_decided are one concept in two layers (audit for
    the inspection team, intermediate for the figures): any row in one and not the other fails.
-#}
with

published as (

    select * from {{ ref('dq_flags') }}

),

decided as (

    select * from {{ ref('int_flags_decided') }}

),

only_published as (

    select
        flag_key,
        status
    from published
    except
    select
        flag_key,
        status
    from decided

),

only_decided as (

    select
        flag_key,
        status
    from decided
    except
    select
        flag_key,
        status
    from published

)

select * from only_published
union all
select * from only_decided
