"""The monthly report form (进度月报表) that units fill in, generated from the rules the reader uses.

``python -m zhaoshang template --year Y --month M [--unit NAME | --all] --out DIR`` writes the form
as .xlsx from ``column_map.csv`` (headers, required marks, 填表说明), ``value_aliases.csv`` and
``sectors.csv`` (the drop-down lists), ``size_bands.csv`` / ``rule_parameters.csv`` (the counting
rules) and the office's ``units.csv`` (填报单位). Because the reader matches headers and values
through the same seeds, a form filled in as handed out is always read back whole.
"""

from __future__ import annotations

from zhaoshang.forms.template import (
    DATA_SHEET,
    FIRST_DATA_ROW,
    HEADER_ROW,
    INSTRUCTIONS_SHEET,
    FormLayout,
    allowed_values_of,
    form_columns,
    form_file_name,
    safe_file_part,
    template_bytes,
    write_templates,
)

__all__ = [
    "DATA_SHEET",
    "FIRST_DATA_ROW",
    "HEADER_ROW",
    "INSTRUCTIONS_SHEET",
    "FormLayout",
    "allowed_values_of",
    "form_columns",
    "form_file_name",
    "safe_file_part",
    "template_bytes",
    "write_templates",
]
