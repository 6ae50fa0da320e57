"""Reading rows that a query always returns (an aggregate, a one-row table such as audit.manifest).

DuckDB types ``fetchone()`` as ``tuple | None``; these say what is expected and fail loudly (naming
the query) instead of a bare ``TypeError: 'NoneType' object is not subscriptable``.
"""

from __future__ import annotations

from typing import Any

import duckdb


def one_row(cursor: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
    row = cursor.fetchone()
    if row is None:
        raise LookupError("查询没有返回行 / a query expected to return one row returned none")
    return row


def scalar(cursor: duckdb.DuckDBPyConnection) -> Any:
    return one_row(cursor)[0]
