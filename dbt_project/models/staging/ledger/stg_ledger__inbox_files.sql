with

source as (

    select * from {{ source('ledger', 'inbox_files') }}

),

renamed as (

    select
        ---------- ids
        source_file,
        sha256,

        ---------- descriptive
        in_inbox as is_in_inbox,

        ---------- dates
        file_mtime,

        ---------- lineage
        first_seen_run,
        last_seen_run

    from source

)

select * from renamed
