{#-
    Every row read is loaded, quarantined or a blank row (per file), and the rows of the
    files whose status is `loaded` are exactly the rows the marts are built from.
-#}
with

load_log as (

    select * from {{ ref('load_log') }}

),

project_rows as (

    select * from {{ ref('int_project_rows_latest') }}

),

unbalanced_files as (

    select
        source_file,
        rows_read - rows_loaded - rows_quarantined - rows_ignored_blank as gap
    from load_log
    where rows_read <> rows_loaded + rows_quarantined + rows_ignored_blank

),

loaded_rows as (

    select
        'rows of loaded files vs rows in the marts' as source_file,
        (select count(*) from project_rows)
        - coalesce(sum(rows_loaded), 0) as gap
    from load_log
    where status = 'loaded'

)

select * from unbalanced_files
union all
select * from loaded_rows
where gap <> 0
