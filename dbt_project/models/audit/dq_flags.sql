{#-
    The flags with their decisions, as the inspection team reads them: the rows of
    int_flags_decided (one concept, decided once in intermediate; marts read it from there).
-#}
select * from {{ ref('int_flags_decided') }}
