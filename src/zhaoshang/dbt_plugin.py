"""dbt-duckdb plugin: the Python rules dbt's SQL calls, so each concept has one implementation.

``profiles.yml`` names this module under ``plugins``; dbt-duckdb calls ``configure_connection``
on every connection it opens. The functions are registered for the build only: every relation
is a table (no view), so the published warehouse never needs them.

- ``zs_normalize_text(text)``: ``zhaoshang.reference.normalize_text`` (NFKC, invisible
  characters, whitespace), used by ``macros/normalize_text.sql``;
- ``zs_project_name_key(text)``: ``zhaoshang.reference.project_name_key`` (project identity's
  name part), used by ``normalize_text(..., drop_spaces=true)``.
"""

from __future__ import annotations

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection
from duckdb.sqltypes import VARCHAR

from zhaoshang.reference import normalize_text, project_name_key


def register(conn: DuckDBPyConnection) -> None:
    conn.create_function(
        "zs_normalize_text", normalize_text, [VARCHAR], VARCHAR, side_effects=False
    )
    conn.create_function(
        "zs_project_name_key", project_name_key, [VARCHAR], VARCHAR, side_effects=False
    )


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        register(conn)
