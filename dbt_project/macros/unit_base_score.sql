{#-
    The unit score before bonuses and penalties (DATA_CONTRACT §4), as of month `month`:
      funds_weight    × funds        ÷ (target_funds    × month/12)
    + projects_weight × new_projects ÷ (target_projects × month/12)
    A term whose annual target is 0 contributes 0. Uncapped: over-completion passes 100.
    Used for the reported and the verified score, so both follow one formula.
-#}
{% macro unit_base_score(
    funds, new_projects, target_funds, target_projects, month, funds_weight, projects_weight
) -%}
    (
        case
            when {{ target_funds }} > 0
                then {{ funds_weight }} * {{ funds }}
                    / ({{ target_funds }} * {{ month }} / 12.0)
            else 0
        end
        + case
            when {{ target_projects }} > 0
                then {{ projects_weight }} * {{ new_projects }}
                    / ({{ target_projects }} * {{ month }} / 12.0)
            else 0
        end
    )
{%- endmacro %}
