{#-
    What changed since the last published night, per flagged subject (zhaoshang.triage): the
    web pages' 新增 / 升级 / 已消除 and the e-mail's "since last night" section read this.
-#}
with

flag_changes as (

    {{ optional_source('dq', 'flag_changes', [
        ['subject_key', 'varchar'],
        ['flag_key', 'varchar'],
        ['previous_flag_key', 'varchar'],
        ['rule', 'varchar'],
        ['severity', 'varchar'],
        ['previous_severity', 'varchar'],
        ['evidence_fingerprint', 'varchar'],
        ['unit_name', 'varchar'],
        ['year', 'integer'],
        ['month', 'integer'],
        ['project_name', 'varchar'],
        ['source_file', 'varchar'],
        ['sheet', 'varchar'],
        ['row_number', 'integer'],
        ['evidence', 'varchar'],
        ['is_current', 'boolean'],
        ['change', 'varchar'],
        ['change_reason_zh', 'varchar'],
        ['change_run_id', 'varchar'],
        ['changed_on', 'date'],
        ['first_seen_on', 'date'],
        ['cleared_on', 'date']
    ]) }}

)

select * from flag_changes
