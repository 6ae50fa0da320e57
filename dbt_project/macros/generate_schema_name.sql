{#-
    Custom schemas are used verbatim (`marts`, not `main_marts`): the data contract fixes the
    schema names analysts and checks read. A node without a custom schema lands in the
    target's default schema.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
