with

file_warnings as (

    select * from {{ ref('int_file_warnings_located') }}

),

final as (

    select
        source_file,
        sheet,
        row_number,
        warning_code,
        message_zh,
        message_en,
        unit_name,
        year,
        month,
        submission_id,
        sha256
    from file_warnings

)

select * from final
