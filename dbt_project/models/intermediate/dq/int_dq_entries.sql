{#-
    What Great Expectations validates (suites dq_findings and dq_health in
    expectations/gx/expectations/): every checked entry — a latest project row, a
    sheet's 合计 row, a roster unit × month — with the entry_id GX reports for
    failing rows and the features each signal's expectation compares. Columns a
    kind lacks are NULL, and GX skips NULLs.
-#}
with

entry_features as (

    select * from {{ ref('int_dq_entry_features') }}

),

total_checks as (

    select * from {{ ref('int_dq_total_checks') }}

),

missing_reports as (

    select * from {{ ref('int_dq_missing_reports') }}

),

unioned as (

    select * from entry_features
    union all by name
    select * from total_checks
    union all by name
    select * from missing_reports

)

select * from unioned
