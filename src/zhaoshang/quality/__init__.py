"""Data quality: Great Expectations judges the dbt feature rows and writes ``dq.gx_flags``.

- ``validate(build_db, run_id, settings) -> dict`` — the nightly stage ``validate_entries``.
- ``zhaoshang.quality.rules`` — the rule catalogue ``dq_rules.csv`` (severity, evidence templates).
- ``zhaoshang.quality.gx_files`` — the GX file context in ``expectations/`` and its authoring
  (``python -m zhaoshang.quality.gx_files`` regenerates the suite from the catalogue).
- ``zhaoshang.quality.evidence`` — flag keys and Chinese evidence text.
"""

from __future__ import annotations

from zhaoshang.quality.validation import validate

__all__ = ["validate"]
