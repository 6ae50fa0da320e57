"""The Great Expectations file context in ``expectations/`` and the authoring of its files.

``expectations/gx/`` holds reviewed files (CONVENTIONS C14): ``great_expectations.yml`` (a pandas
data source with one DataFrame asset, ``int_dq_entries``), the suite
``expectations/int_dq_entries.json`` with one expectation per rule of ``dq_rules.csv``, its
validation definition and the ``nightly`` checkpoint (result format COMPLETE with ``entry_id`` as
the unexpected index column, and a Data Docs action).

The suite is generated from ``dq_rules.csv`` by ``python -m zhaoshang.quality.gx_files`` and
committed, so a rule change is a JSON diff in review. Paths that differ per deployment (the Data
Docs site in ``<output_dir>/data_docs`` and the validation results) are ``${...}`` variables of
``great_expectations.yml`` filled in by ``runtime_environment`` at run time; nothing a run does
writes to the reviewed files.

GX is imported inside functions only: importing ``zhaoshang.quality`` stays cheap.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from zhaoshang.quality.rules import GX_SEVERITY, Rule, load_rules
from zhaoshang.settings import EXPECTATIONS_DIR, REFERENCE_RULES_DIR, Settings

if TYPE_CHECKING:
    from great_expectations.data_context import FileDataContext

DATASOURCE = "dq_features"
ASSET = "int_dq_entries"
BATCH_DEFINITION = "whole_table"
SUITE = "int_dq_entries"
VALIDATION_DEFINITION = "int_dq_entries_nightly"
CHECKPOINT = "nightly"
DATA_DOCS_SITE = "local_site"
ENTRY_ID = "entry_id"
RESULT_FORMAT = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": [ENTRY_ID],
}

# great_expectations.yml as reviewed. The two ${...} variables come from runtime_environment.
CONFIG_YML = """\
# Great Expectations (GX Core 1.x) file context of the 招商引资 warehouse.
# Reviewed and committed. Generated parts (fluent_datasources) are written by
# `python -m zhaoshang.quality.gx_files`. Per-deployment paths are variables that
# zhaoshang.quality fills in at run time (runtime_environment):
#   zhaoshang_data_docs_dir   -> <ZHAOSHANG_OUTPUT_DIR>/data_docs/
#   zhaoshang_gx_results_dir  -> <ZHAOSHANG_STATE_DIR>/gx/validations/
config_version: 4
config_variables_file_path: uncommitted/config_variables.yml
plugins_directory: plugins/
analytics_enabled: false
progress_bars:
  globally: false
  metric_calculations: false
stores:
  expectations_store:
    class_name: ExpectationsStore
    store_backend:
      class_name: TupleFilesystemStoreBackend
      base_directory: expectations/
  validation_results_store:
    class_name: ValidationResultsStore
    store_backend:
      class_name: TupleFilesystemStoreBackend
      base_directory: ${zhaoshang_gx_results_dir}
  checkpoint_store:
    class_name: CheckpointStore
    store_backend:
      class_name: TupleFilesystemStoreBackend
      suppress_store_backend_id: true
      base_directory: checkpoints/
  validation_definition_store:
    class_name: ValidationDefinitionStore
    store_backend:
      class_name: TupleFilesystemStoreBackend
      base_directory: validation_definitions/
expectations_store_name: expectations_store
validation_results_store_name: validation_results_store
checkpoint_store_name: checkpoint_store
data_docs_sites:
  local_site:
    class_name: SiteBuilder
    show_how_to_buttons: false
    store_backend:
      class_name: TupleFilesystemStoreBackend
      base_directory: ${zhaoshang_data_docs_dir}
    site_index_builder:
      class_name: DefaultSiteIndexBuilder
"""


def data_docs_dir(settings: Settings) -> Path:
    return settings.output_dir / "data_docs"


def results_dir(settings: Settings) -> Path:
    return settings.state_dir / "gx" / "validations"


def open_context(
    data_docs: Path, results: Path, project_root: Path = EXPECTATIONS_DIR
) -> FileDataContext:
    """The file context in ``project_root`` with this deployment's output paths."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    data_docs.mkdir(parents=True, exist_ok=True)
    results.mkdir(parents=True, exist_ok=True)
    return gx.get_context(
        mode="file",
        project_root_dir=str(project_root),
        runtime_environment={
            # trailing slash: GX joins file names onto these as prefixes
            "zhaoshang_data_docs_dir": f"{data_docs}{os.sep}",
            "zhaoshang_gx_results_dir": f"{results}{os.sep}",
        },
    )


def context_for(settings: Settings) -> FileDataContext:
    return open_context(data_docs_dir(settings), results_dir(settings))


SUITE_META = {
    "description_zh": (
        "招商引资疑点规则：每条规则一个期望，判定 dbt 模型 int_dq_entries 的特征列；"
        "规则、严重程度和说明来自 dbt_project/seeds/dq_rules.csv。"
    ),
    "generated_from": "dbt_project/seeds/dq_rules.csv",
}


def _expectation(rule: Rule):
    import great_expectations.expectations as gxe
    from great_expectations.expectations.metadata_types import FailureSeverity

    return gxe.ExpectColumnValuesToBeNull(
        column=rule.feature_column,
        description=rule.description_zh(),
        severity=FailureSeverity(GX_SEVERITY[rule.severity]),
        meta={
            "rule": rule.rule,
            "severity": rule.severity,
            "rule_zh": rule.rule_zh,
            "signals": {s.signal: s.severity for s in rule.signals},
        },
    )


def _sync_suite(ctx, rules: tuple[Rule, ...]):
    """Create the suite, or update the committed one in place (ids kept: a rule edit is a small diff)."""
    import great_expectations as gx
    from great_expectations.exceptions import DataContextError

    try:
        suite = ctx.suites.get(SUITE)
    except DataContextError:  # first authoring
        suite = ctx.suites.add(gx.ExpectationSuite(name=SUITE, meta=dict(SUITE_META)))
    suite.meta.update(SUITE_META)
    wanted = {r.rule: r for r in rules}
    for expectation in list(suite.expectations):
        if (expectation.meta or {}).get("rule") not in wanted:
            suite.delete_expectation(expectation)
    have = {e.meta["rule"]: e for e in suite.expectations}
    for rule in rules:
        fresh = _expectation(rule)
        if rule.rule in have:
            current = have[rule.rule]
            current.column = fresh.column
            current.description = fresh.description
            current.severity = fresh.severity
            current.meta = fresh.meta
        else:
            suite.add_expectation(fresh)
    suite.expectations.sort(key=lambda e: list(wanted).index(e.meta["rule"]))
    suite.save()
    return suite


def author(
    project_root: Path = EXPECTATIONS_DIR, rules_dir: Path = REFERENCE_RULES_DIR
) -> list[Path]:
    """(Re)write the GX files from ``dq_rules.csv``; keeps existing ids so reviews see real diffs."""
    import great_expectations as gx
    from great_expectations.checkpoint import Checkpoint, UpdateDataDocsAction
    from great_expectations.datasource.fluent import PandasDatasource

    gx_dir = project_root / "gx"
    gx_dir.mkdir(parents=True, exist_ok=True)
    config = gx_dir / "great_expectations.yml"
    if not config.exists():
        config.write_text(CONFIG_YML, encoding="utf-8")
    with tempfile.TemporaryDirectory() as scratch:
        ctx = open_context(Path(scratch, "docs"), Path(scratch, "results"), project_root)

        try:
            source = ctx.data_sources.get(DATASOURCE)
        except (KeyError, LookupError, ValueError):
            source = ctx.data_sources.add_pandas(DATASOURCE)
        if not isinstance(source, PandasDatasource):
            raise TypeError(f"GX data source {DATASOURCE} is {type(source).__name__}, not pandas")
        try:
            asset = source.get_asset(ASSET)
        except LookupError:
            asset = source.add_dataframe_asset(ASSET)
        try:
            batch_definition = asset.get_batch_definition(BATCH_DEFINITION)
        except (KeyError, LookupError):
            batch_definition = asset.add_batch_definition_whole_dataframe(BATCH_DEFINITION)

        suite = _sync_suite(ctx, load_rules(rules_dir))

        definition = ctx.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=VALIDATION_DEFINITION, data=batch_definition, suite=suite)
        )
        ctx.checkpoints.add_or_update(
            Checkpoint(
                name=CHECKPOINT,
                validation_definitions=[definition],
                actions=[
                    UpdateDataDocsAction(name="update_data_docs", site_names=[DATA_DOCS_SITE])
                ],
                result_format=RESULT_FORMAT,
            )
        )
    written = sorted(
        p
        for sub in ("expectations", "validation_definitions", "checkpoints")
        for p in (gx_dir / sub).glob("*.json")
    )
    for path in written:  # readable Chinese and stable key order for review
        data = json.loads(path.read_text(encoding="utf-8"))
        path.write_text(
            json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
    return written


if __name__ == "__main__":
    for p in author():
        print(p)
