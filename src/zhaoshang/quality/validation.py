"""Stage ``validate_entries``: GX judges the dbt feature rows; failing rows become ``dq.gx_flags``.

dbt pass 1 computed every cross-row feature once (``int_dq_entries``: one row per checked entry —
a latest project row, a sheet's 合计 row, a unit × month of the roster). Here the table is read
into pandas (GX's SQL data source fails on DuckDB) and the reviewed ``nightly`` checkpoint runs
both suites with result format COMPLETE and ``entry_id`` as the unexpected index column:

- ``dq_health`` must pass (else ``ValidationError``: the features cannot be judged);
- each unexpected entry of each ``dq_findings`` expectation (one per rule × signal) becomes one
  row of ``dq.gx_flags``, with the signal's severity and Chinese evidence from ``dq_rules.csv``.

Data Docs go to ``<output_dir>/data_docs/``, the site of the checkpoint's ``update_data_docs``
action, built once a night for all the parts judged (``build_data_docs``).

A night judges only what can have changed: every findings expectation is a predicate on one
entry's features, so an entry whose feature row is the same as when GX last judged it, under the
same suites, rules and code (``judgement_fingerprint``), keeps the flags it got then (with
tonight's run id, as a full validation would write them). ``zhaoshang.publish.start_build`` sets
last night's entries, flags and fingerprint aside in schema ``previous``; a first night, a full
refresh or any change to the judgement validates every entry. The health suite runs on the
entries judged; entry_id's uniqueness over all of them is dbt's test on ``int_dq_entries``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from zhaoshang.errors import mask_pii
from zhaoshang.publish import PREVIOUS_JUDGEMENT, PREVIOUS_SCHEMA
from zhaoshang.quality import evidence, gx_files
from zhaoshang.quality.rules import Rule, load_rules
from zhaoshang.queries import scalar
from zhaoshang.settings import EXPECTATIONS_DIR, REFERENCE_RULES_DIR, Settings

log = logging.getLogger(__name__)

FEATURE_TABLE = "int_dq_entries"
# Nights whose GX results (COMPLETE: every failing entry id) and Data Docs pages are kept; the
# flags themselves live on in the warehouse and the flag history, so older results are dropped
# rather than left to grow the state and output dirs by a night's result each night.
KEPT_VALIDATION_RUNS = 62
# Entries judged per checkpoint run: GX holds a run's entries several times over (a copy per row
# condition, the COMPLETE results), so a province's million entries are judged in parts of about
# this many (every expectation is a predicate on one row; entry_id's uniqueness over all entries
# is dbt's test on int_dq_entries). Each part is a validation in the result store and Data Docs.
# With only the 27 judged features read (the evidence's come for flagged entries alone), a part
# of 250,000 peaks at ~1.3 GB for the stage; each part costs GX ~1.5 s of its own besides.
ENTRIES_PER_RUN = 250_000

JUDGEMENT_TABLE = "build_state.gx_judgement"
_UNCHANGED = "temp.main.unchanged_entries"  # carried_judgement's, for read_entries
# What a flag is a function of besides its entry's features: the suites and checkpoint, the rule
# catalogue and parameters, and the code that turns failures into flags (evidence, masking).
_PACKAGE = Path(__file__).resolve().parents[1]
_JUDGEMENT_FILES = (
    EXPECTATIONS_DIR / "gx",
    REFERENCE_RULES_DIR,
    _PACKAGE / "quality",
    _PACKAGE / "pii.py",
    _PACKAGE / "errors.py",
)

GX_FLAGS_DDL = """
create or replace table dq.gx_flags (
    flag_key varchar primary key,
    rule_flag_key varchar not null,
    rule varchar not null,
    severity varchar not null,
    signal varchar not null,
    unit_name varchar,
    year integer,
    month integer,
    project_name varchar,
    submission_id varchar,
    source_file varchar,
    sheet varchar,
    row_number integer,
    evidence varchar not null,
    entry_id varchar not null,
    detected_run_id varchar not null
)"""
GX_FLAGS_COLUMNS = (
    "flag_key",
    "rule_flag_key",
    "rule",
    "severity",
    "signal",
    "unit_name",
    "year",
    "month",
    "project_name",
    "submission_id",
    "source_file",
    "sheet",
    "row_number",
    "evidence",
    "entry_id",
    "detected_run_id",
)


class FeaturesMissing(RuntimeError):
    """The build file lacks the dq feature model (dbt pass 1 did not build it)."""


class ValidationError(RuntimeError):
    """An expectation could not be computed (a bug or a schema drift, not suspicious data)."""


def read_entries(
    con: duckdb.DuckDBPyConnection,
    part_size: int,
    *,
    skip_unchanged: bool = False,
    columns: list[str] | None = None,
) -> Iterator[pd.DataFrame]:
    """The feature rows in parts of about ``part_size`` rows (DuckDB hands out 2,048-row
    vectors), in the table's order: sorting would hold every row in DuckDB at once, and no
    flag depends on which part judged it. With ``skip_unchanged``, but for the entries
    ``carried_judgement`` found unchanged; with ``columns``, only those. The first part comes
    even when empty, so that a night with nothing to judge still records its (empty)
    validation."""
    selected = ", ".join(f'"{c}"' for c in columns) if columns else "*"
    query = f"select {selected} from {_feature_relation(con)}"
    if skip_unchanged:
        query += f" where entry_id not in (select entry_id from {_UNCHANGED})"
    cursor = con.execute(query)
    vectors = max(1, part_size // 2048)
    part = cursor.fetch_df_chunk(vectors)
    yield part
    while len(part):
        part = cursor.fetch_df_chunk(vectors)
        if len(part):
            yield part


def judgement_fingerprint(settings: Settings) -> str:
    """sha256 of everything besides an entry's features that decides its flags."""
    digest = hashlib.sha256(
        f"county={settings.county_code}\ngx={version('great_expectations')}\n".encode()
    )
    for root in _JUDGEMENT_FILES:
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            if path.suffix in {".pyc"} or "uncommitted" in path.parts:
                continue  # bytecode and GX's own scratch folder are not the judgement
            digest.update(str(path.relative_to(root.parent)).encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def carried_judgement(
    con: duckdb.DuckDBPyConnection, fingerprint: str, run_id: str
) -> tuple[int, pd.DataFrame] | None:
    """How many entries have the feature rows GX last judged under the same ``fingerprint``
    (their ids in the connection's temp table ``unchanged_entries``, for ``read_entries``), and
    the flags it raised on them (with ``run_id``); None when nothing can be carried."""
    present = {
        table
        for (table,) in con.execute(
            "select table_name from duckdb_tables() "
            "where database_name = current_database() and schema_name = ?",
            [PREVIOUS_SCHEMA],
        ).fetchall()
    }
    if not set(PREVIOUS_JUDGEMENT.values()) <= present:
        return None
    judged = con.execute(f"select fingerprint from {PREVIOUS_SCHEMA}.gx_judgement").fetchone()
    if not judged or judged[0] != fingerprint:
        return None
    schema = _feature_schema(con)
    columns_of = (
        "select column_name, data_type from duckdb_columns() "
        "where database_name = current_database() and schema_name = ? and table_name = ? "
        "order by column_index"
    )
    tonight = con.execute(columns_of, [schema, FEATURE_TABLE]).fetchall()
    if tonight != con.execute(columns_of, [PREVIOUS_SCHEMA, "dq_entries"]).fetchall():
        return None  # the features are not last night's columns: judge everything
    try:
        con.execute(
            f"""create or replace temp table {_UNCHANGED} as
                select e.entry_id from {_feature_relation(con)} e
                join {PREVIOUS_SCHEMA}.dq_entries p on p.entry_id = e.entry_id
                where p is not distinct from e"""
        )
    except duckdb.Error:  # a feature type that does not compare: judge everything
        return None
    unchanged = int(scalar(con.execute(f"select count(*) from {_UNCHANGED}")))
    columns = ", ".join(c for c in GX_FLAGS_COLUMNS if c != "detected_run_id")
    flags = con.execute(
        f"""select {columns}, ?::varchar as detected_run_id
            from {PREVIOUS_SCHEMA}.gx_flags
            where entry_id in (select entry_id from {_UNCHANGED})""",
        [run_id],
    ).df()
    return unchanged, flags[list(GX_FLAGS_COLUMNS)]


def _feature_relation(con: duckdb.DuckDBPyConnection) -> str:
    return f'"{_feature_schema(con)}"."{FEATURE_TABLE}"'


def _feature_schema(con: duckdb.DuckDBPyConnection) -> str:
    found = con.execute(
        """select table_schema from information_schema.tables
           where table_name = ? and table_catalog = current_database()""",
        [FEATURE_TABLE],
    ).fetchall()
    if not found:
        raise FeaturesMissing(
            f"构建库中没有数据质量特征表 {FEATURE_TABLE}（dbt 第一遍未构建）/ "
            f"the build database has no {FEATURE_TABLE} (dbt pass 1 did not build it)"
        )
    return str(found[0][0])


def judged_columns(columns: Iterable[str]) -> list[str]:
    """The feature columns the reviewed suites read (domains, pairs, row conditions, the index
    column), in ``columns``' order. GX copies the frame it is given for each of ~130 row
    conditions and hashes it whole for a batch id; the other features are evidence, which
    ``build_flags`` reads from the full frame."""
    named: set[str] = {gx_files.ENTRY_ID}
    for path in sorted((EXPECTATIONS_DIR / "gx" / "expectations").glob("*.json")):
        for expectation in json.loads(path.read_text(encoding="utf-8"))["expectations"]:
            named.update(_strings_in(expectation.get("kwargs", {})))
    return [c for c in columns if c in named]


def _strings_in(value: object) -> Iterator[str]:
    """Every string in a JSON value: a column is named as a kwarg or inside a row condition."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings_in(item)


def run_checkpoint(
    entries: pd.DataFrame, context: Any, settings: Settings
) -> tuple[dict[tuple[str, str], list[str]], list[Any]]:
    """Run the reviewed checkpoint's validations on the features; return (rule, signal) ->
    unexpected entry ids, and the identifiers of the stored results (for ``build_data_docs``).

    The checkpoint's validation definitions run as ``Checkpoint.run`` runs them (its result
    format, one run id, results stored), without its action: a province is judged in a dozen
    parts, and the action would rebuild the Data Docs index twice a part; ``build_data_docs``
    builds the pages of every part and the index once.

    Raises ``ValidationError`` when an expectation cannot be computed or the health suite fails.
    Results are converted to plain Python here (GX hands out numpy scalars).
    """
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    checkpoint = context.checkpoints.get(gx_files.CHECKPOINT)
    run_id = RunIdentifier(run_time=datetime.now(UTC))
    judged = judged_columns(entries.columns)
    frame = entries if judged == list(entries.columns) else entries[judged]
    run_results: dict[Any, Any] = {}
    for definition in checkpoint.validation_definitions:
        validation = definition.run(
            checkpoint_id=checkpoint.id,
            batch_parameters={"dataframe": frame},
            expectation_parameters={gx_files.COUNTY_PARAMETER: [settings.county_code]},
            result_format=checkpoint.result_format,
            run_id=run_id,
        )
        validation.meta["checkpoint_id"] = checkpoint.id
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=definition.suite.name),
            run_id=run_id,
            batch_identifier=validation.batch_id,
        )
        run_results[key] = validation
    failing: dict[tuple[str, str], list[str]] = {}
    unhealthy: list[str] = []
    for validation in run_results.values():
        health = validation.suite_name == gx_files.HEALTH_SUITE
        for item in validation.results:
            config = item.expectation_config
            meta = (config.meta if config else None) or {}
            info = item.exception_info or {}
            if info.get("raised_exception"):
                raise ValidationError(
                    f"GX expectation {meta} failed to run: {info.get('exception_message')}"
                )
            ids = [
                str(row[gx_files.ENTRY_ID])
                for row in (item.result or {}).get("unexpected_index_list") or []
            ]
            if health:
                if not item.success:
                    unhealthy.append(f"{meta.get('health_check')} (e.g. {ids[:3]})")
                continue
            failing.setdefault((str(meta.get("rule")), str(meta.get("signal"))), []).extend(ids)
    if unhealthy:
        raise ValidationError(
            f"{FEATURE_TABLE} 不能判定（流水线健康检查未通过）/ cannot be judged, "
            f"health checks failed: {unhealthy}"
        )
    return failing, list(run_results)


def build_data_docs(context: Any, result_ids: list[Any]) -> None:
    """The Data Docs of tonight's validations (their pages, their suites' pages, the index),
    on the sites the checkpoint's ``update_data_docs`` action names, in one build."""
    from great_expectations.checkpoint import UpdateDataDocsAction

    checkpoint = context.checkpoints.get(gx_files.CHECKPOINT)
    sites = sorted(
        {
            site
            for action in checkpoint.actions
            if isinstance(action, UpdateDataDocsAction)
            for site in action.site_names
        }
    )
    if not sites:
        return
    suites = list(dict.fromkeys(key.expectation_suite_identifier for key in result_ids))
    context.build_data_docs(site_names=sites, resource_identifiers=[*result_ids, *suites])


def _flagged_rows(
    con: duckdb.DuckDBPyConnection, failing: dict[tuple[str, str], list[str]]
) -> pd.DataFrame:
    """Every feature of the entries that failed an expectation (the evidence's placeholders)."""
    ids = list(dict.fromkeys(i for entry_ids in failing.values() for i in entry_ids))
    return con.execute(
        f"select * from {_feature_relation(con)} where entry_id in (select unnest(?::varchar[]))",
        [ids],
    ).df()


def build_flags(
    entries: pd.DataFrame,
    failing: dict[tuple[str, str], list[str]],
    rules: tuple[Rule, ...],
    run_id: str,
) -> pd.DataFrame:
    """One row per entry × rule × signal, in the catalogue's order."""
    by_id = entries.set_index(gx_files.ENTRY_ID, drop=False)
    constants = evidence.rule_constants()
    records = []
    for rule in rules:
        for signal in rule.signals:
            ids = list(dict.fromkeys(failing.get((rule.rule, signal.signal), [])))
            # one take per signal: a row lookup per flag costs ~0.1 ms, and a province has 10^4
            for row in by_id.loc[ids].to_dict("records") if ids else ():
                entry_id = row[gx_files.ENTRY_ID]
                project_name = row.get("project_name")
                records.append(
                    {
                        "flag_key": evidence.flag_key(rule.rule, signal.signal, entry_id),
                        "rule_flag_key": evidence.rule_flag_key(rule.rule, entry_id),
                        "rule": rule.rule,
                        "severity": signal.severity,
                        "signal": signal.signal,
                        "unit_name": _text(row.get("unit_name")),
                        "year": _int(row.get("year")),
                        "month": _int(row.get("month")),
                        "project_name": None
                        if evidence.is_missing(project_name)
                        else mask_pii(str(project_name)),
                        "submission_id": _text(row.get("submission_id")),
                        "source_file": _text(row.get("source_file")),
                        "sheet": _text(row.get("sheet")),
                        "row_number": _int(row.get("row_number")),
                        "evidence": evidence.evidence_of(signal, row, constants),
                        "entry_id": entry_id,
                        "detected_run_id": run_id,
                    }
                )
    return pd.DataFrame.from_records(records, columns=list(GX_FLAGS_COLUMNS))


def _text(value: object) -> str | None:
    return None if evidence.is_missing(value) else str(value)


def _int(value: Any) -> int | None:  # a pandas cell: int, numpy integer, float or NA
    return None if evidence.is_missing(value) else int(value)


def write_flags(
    con: duckdb.DuckDBPyConnection, flags: pd.DataFrame, fingerprint: str | None = None
) -> None:
    """Replace ``dq.gx_flags`` in one transaction (created empty when nothing fails); record
    the judgement's fingerprint and drop last night's, set aside by ``start_build``."""
    con.execute("begin")
    try:
        con.execute("create schema if not exists dq")
        con.execute(GX_FLAGS_DDL)
        if len(flags):
            frame = flags.astype(object).where(flags.notna(), None)
            con.register("new_gx_flags", frame)
            try:
                columns = ", ".join(GX_FLAGS_COLUMNS)
                con.execute(
                    f"insert into dq.gx_flags ({columns}) select {columns} from new_gx_flags"
                )
            finally:
                con.unregister("new_gx_flags")
        if fingerprint is not None:
            con.execute("create schema if not exists build_state")
            con.execute(
                f"create or replace table {JUDGEMENT_TABLE} as select ?::varchar as fingerprint",
                [fingerprint],
            )
        con.execute(f"drop schema if exists {PREVIOUS_SCHEMA} cascade")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def prune_results(settings: Settings, keep: int = KEPT_VALIDATION_RUNS) -> int:
    """Drop all but the newest ``keep`` runs of each suite from the GX result store and the
    Data Docs site (run folders are named by their UTC start, so names sort by time)."""
    removed = 0
    for root in (gx_files.results_dir(settings), gx_files.data_docs_dir(settings) / "validations"):
        for runs_dir in sorted(root.glob("*/*")):
            runs = sorted(p for p in runs_dir.iterdir() if p.is_dir())
            for old in runs[: max(0, len(runs) - keep)]:
                shutil.rmtree(old)
                removed += 1
    return removed


def validate(
    build_db: Path, run_id: str, settings: Settings, part_size: int = ENTRIES_PER_RUN
) -> dict:
    """Judge the features in ``build_db``; write ``dq.gx_flags``; return a JSON-safe summary."""
    started = time.monotonic()
    rules = load_rules()
    prune_results(settings, keep=KEPT_VALIDATION_RUNS - 1)  # before: tonight's index omits them
    fingerprint = judgement_fingerprint(settings)
    parts: list[pd.DataFrame] = []
    judged = 0
    # DuckDB's share of the stage's memory: the parts stream from the table (GX holds the rest)
    with duckdb.connect(str(build_db), config={"memory_limit": "512MB"}) as con:
        checked = int(scalar(con.execute(f"select count(*) from {_feature_relation(con)}")))
        carried = carried_judgement(con, fingerprint, run_id)
        carried_flags = carried[1] if carried is not None else None
        context = gx_files.context_for(settings)
        result_ids: list[Any] = []
        # GX reads a third of the features; a flag's evidence reads the rest, of its entry only
        relation = _feature_relation(con)
        features = [d[0] for d in con.execute(f"select * from {relation} limit 0").description]
        lookup = con.cursor()  # its own connection: the parts stream from con's cursor
        for entries in read_entries(
            con,
            part_size,
            skip_unchanged=carried is not None,
            columns=judged_columns(features),
        ):
            judged += len(entries)
            failing, stored = run_checkpoint(entries, context, settings)
            result_ids += stored
            parts.append(build_flags(_flagged_rows(lookup, failing), failing, rules, run_id))
        lookup.close()
        build_data_docs(context, result_ids)
    if carried_flags is not None and len(carried_flags):
        parts.append(carried_flags)
    flags = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    with duckdb.connect(str(build_db)) as con:
        write_flags(con, flags, fingerprint)
    docs_index = gx_files.data_docs_dir(settings) / "index.html"
    summary = {
        "run_id": run_id,
        "entries_checked": checked,
        "entries_judged": judged,  # the rest kept last night's judgement (unchanged)
        "validation_runs": len(parts) - (carried_flags is not None and len(carried_flags) > 0),
        "flags": len(flags),
        "by_rule": {r.rule: int((flags["rule"] == r.rule).sum()) for r in rules},
        "by_severity": dict(Counter(flags["severity"].tolist())),
        "data_docs": str(docs_index) if docs_index.exists() else None,
        "elapsed_s": round(time.monotonic() - started, 2),
    }
    log.info(
        "validate: %d entries checked (%d judged tonight, the rest unchanged), %d flags %s",
        summary["entries_checked"],
        summary["entries_judged"],
        summary["flags"],
        summary["by_rule"],
    )
    return summary
