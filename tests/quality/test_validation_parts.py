"""A province's entries are judged in parts (``validation.ENTRIES_PER_RUN``): real GX on the
quality fixture's features, copied until they span several 2,048-row parts. Known answer: the
flags of the parts are exactly the flags of one run over all entries."""

from __future__ import annotations

import math
import shutil

import duckdb

from zhaoshang import quality
from zhaoshang.quality import validation

COPIES = 75  # the fixture has about 60 entries: 75 copies span three 2,048-row parts


def _inflate(build_db, copies: int) -> int:
    """Each entry ``copies`` times (ids suffixed ``#k``): the same features, more entries."""
    with duckdb.connect(str(build_db)) as con:
        schema = con.execute(
            "select table_schema from information_schema.tables where table_name = ?",
            [validation.FEATURE_TABLE],
        ).fetchone()[0]
        table = f'"{schema}"."{validation.FEATURE_TABLE}"'
        con.execute(f"create temp table one as select * from {table}")
        con.execute(f"delete from {table}")
        for k in range(copies):
            con.execute(
                f"insert into {table} select * replace (entry_id || '#{k}' as entry_id) from one"
            )
        return con.execute(f"select count(*) from {table}").fetchone()[0]


def _flags(build_db) -> list[tuple]:
    with duckdb.connect(str(build_db), read_only=True) as con:
        return con.execute("select * from dq.gx_flags order by flag_key").fetchall()


def test_parts_give_the_flags_of_one_run(dq_build, tmp_path):
    whole_db, parts_db = tmp_path / "whole.duckdb", tmp_path / "parts.duckdb"
    shutil.copyfile(dq_build.build_db, whole_db)
    entries = _inflate(whole_db, COPIES)
    shutil.copyfile(whole_db, parts_db)
    assert entries > 2 * 2048, "the fixture must span at least three parts"

    whole = quality.validate(whole_db, "run-parts", dq_build.settings, part_size=10**9)
    parts = quality.validate(parts_db, "run-parts", dq_build.settings, part_size=2048)

    assert whole["validation_runs"] == 1
    assert parts["validation_runs"] == math.ceil(entries / 2048)
    assert parts["entries_judged"] == whole["entries_judged"] == entries
    assert whole["flags"] == COPIES * dq_build.summary["flags"] > 0
    assert _flags(parts_db) == _flags(whole_db)
