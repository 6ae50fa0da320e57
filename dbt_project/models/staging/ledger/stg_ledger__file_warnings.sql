with

source as (

    select * from {{ source('ledger', 'file_warnings') }}

),

renamed as (

    select
        ---------- ids
        submission_id,
        sheet,
        row_number,

        ---------- descriptive
        code as warning_code,
        message_zh,
        message_en

    from source

)

select * from renamed
