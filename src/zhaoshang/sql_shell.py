"""The analysts' SQL shell: ``python -m zhaoshang sql [-c SQL]`` (``make sql``).

It uses the project's own duckdb Python package, so it reads the warehouse whatever DuckDB CLI a
machine has (or none: the CLI on the package index refuses files written by duckdb 2.x). The
file is opened read-only with external access disabled and the configuration locked: an analyst
cannot write the warehouse, read other files or switch the settings back. A nightly run never
writes this file (it publishes by atomic rename), so the shell works during a run and keeps
reading the snapshot it opened.

``describe <table>`` also shows the Chinese descriptions dbt stores as ``COMMENT ON``;
``.tables`` lists the tables with theirs; ``.quit`` (or Ctrl-D) leaves.
"""

from __future__ import annotations

import contextlib
import re
import sys
from pathlib import Path

import duckdb

from zhaoshang.settings import Settings

MAX_ROWS = 200
_DESCRIBE = re.compile(r"^\s*(?:describe|desc)\s+([\w.\"]+)\s*;?\s*$", re.IGNORECASE)
_HELP = (
    "输入 SQL，以分号结束；describe 表名 显示列及中文说明；.tables 列出表；.quit 退出。\n"
    "SQL ends with ';'. describe <table> shows columns with their Chinese descriptions; "
    ".tables lists tables; .quit leaves."
)


def connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    if not warehouse.exists():
        raise FileNotFoundError(
            f"尚未发布数据仓库 {warehouse}（先运行 make run）/ no published warehouse at "
            f"{warehouse} (run `make run` first)"
        )
    return duckdb.connect(
        str(warehouse),
        read_only=True,
        config={"enable_external_access": False, "lock_configuration": True},
    )


def _show(relation: duckdb.DuckDBPyRelation | None, out) -> None:
    if relation is None:
        return
    out.write(str(relation.limit(MAX_ROWS)))
    if len(relation.limit(MAX_ROWS + 1).fetchall()) > MAX_ROWS:
        out.write(f"（只显示前 {MAX_ROWS} 行，可加 limit/offset / first {MAX_ROWS} rows shown）\n")


def _describe(con: duckdb.DuckDBPyConnection, name: str, out) -> None:
    parts = name.replace('"', "").split(".")
    schema, table = (parts[-2], parts[-1]) if len(parts) > 1 else (None, parts[-1])
    where = "table_name = ?" + (" and schema_name = ?" if schema else "")
    params = [table, schema] if schema else [table]
    found = con.execute(
        f"select schema_name, table_name, comment from duckdb_tables() where {where}", params
    ).fetchall()
    if not found:
        _show(con.sql(f"describe {name}"), out)  # views and anything else: DuckDB's own answer
        return
    for schema_name, table_name, comment in found:
        out.write(f"{schema_name}.{table_name}: {(comment or '').strip()}\n")
        _show(
            con.sql(
                "select column_name as 列名, data_type as 类型, comment as 说明 "
                "from duckdb_columns() where schema_name = $s and table_name = $t "
                "order by column_index",
                params={"s": schema_name, "t": table_name},
            ),
            out,
        )


def _tables(con: duckdb.DuckDBPyConnection, out) -> None:
    _show(
        con.sql(
            "select schema_name || '.' || table_name as 表, estimated_size as 约行数, "
            "split_part(comment, '。', 1) as 说明 from duckdb_tables() "
            "order by schema_name = 'marts' desc, schema_name = 'audit' desc, 1"
        ),
        out,
    )


def run_statement(con: duckdb.DuckDBPyConnection, text: str, out=sys.stdout) -> None:
    stripped = text.strip()
    if not stripped:
        return
    if stripped.rstrip(";") in {".tables", "\\dt"}:
        _tables(con, out)
        return
    match = _DESCRIBE.match(stripped)
    if match:
        _describe(con, match.group(1), out)
        return
    _show(con.sql(stripped), out)


def execute(con: duckdb.DuckDBPyConnection, text: str, out=sys.stdout) -> int:
    """Run one command line's SQL; errors are printed, not raised (exit status 1)."""
    try:
        run_statement(con, text, out)
    except duckdb.Error as error:
        print(f"错误 / error: {error}", file=sys.stderr)
        return 1
    return 0


def interactive(con: duckdb.DuckDBPyConnection, settings: Settings) -> int:
    try:
        import readline
    except ImportError:  # not on every platform; the shell still works without history
        readline = None
    history = Path.home() / ".zhaoshang_sql_history"
    if readline is not None:
        with contextlib.suppress(OSError):
            readline.read_history_file(history)
    print(f"{settings.warehouse}（只读 / read-only）")
    print(_HELP)
    buffer: list[str] = []
    status = 0
    try:
        while True:
            try:
                line = input("zhaoshang> " if not buffer else "      ...> ")
            except EOFError:
                print()
                break
            if not buffer and line.strip() in {".quit", ".exit", "\\q", "exit", "quit"}:
                break
            if not buffer and line.strip() in {".help", "help"}:
                print(_HELP)
                continue
            buffer.append(line)
            joined = "\n".join(buffer).strip()
            if joined.endswith(";") or joined.startswith(".") or _DESCRIBE.match(joined):
                status = execute(con, joined)
                buffer = []
    finally:
        if readline is not None:
            with contextlib.suppress(OSError):
                readline.write_history_file(history)
    return status


def main(settings: Settings, command: str | None) -> int:
    try:
        con = connect(settings.warehouse)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 2
    with con:
        if command is not None:
            return execute(con, command)
        return interactive(con, settings)
