{#-
    What the ledger-to-marts path must recompute tonight. One row per (unit, year, month) with
    its latest submission and the path that stands for it: what every figure of the period is
    built from. changed_from_period (year * 100 + month, the same on every row) is the first
    period where tonight's rows differ from the last build's (a new month, a late or corrected
    report, a withdrawn or renamed file); the incremental models recompute it and later
    periods only. 0 (everything) on a full refresh or when there is no last build; 999999
    when nothing changed. The last build's rows are this table as it was in the build file the
    night started from (zhaoshang.publish.start_build), read before it is replaced.
-#}
{%- set previous = last_build_of_this() -%}
with

submissions_ranked as (

    select * from {{ ref('int_submissions_ranked_latest') }}

),

tonight as (

    select
        unit_name,
        year,
        month,
        submission_id,
        source_file
    from submissions_ranked
    where is_latest

),

{% if previous is not none %}
last_build as (

    select
        unit_name,
        year,
        month,
        submission_id,
        source_file
    from {{ previous }}

),

differences as (

    (
        select * from tonight
        except
        select * from last_build
    )
    union all
    (
        select * from last_build
        except
        select * from tonight
    )

),

changed_from as (

    select coalesce(min(year * 100 + month), 999999) as changed_from_period
    from differences

)
{% else %}
changed_from as (

    select 0 as changed_from_period

)
{% endif %}

select
    tonight.*,
    changed_from.changed_from_period
from tonight
cross join changed_from
