{#-
    Fails with every row where `expression` is not true. A NULL result fails too, so an
    invariant cannot pass by being unknown; guard nullable columns in the expression.
-#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not coalesce(({{ column_name ~ ' ' if column_name }}{{ expression }}), false)

{% endtest %}
