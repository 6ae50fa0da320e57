"""GX's result store and Data Docs keep the last nights only: each night adds a COMPLETE result
(every failing entry id), which for a province is megabytes a night."""

from __future__ import annotations

from zhaoshang.quality import gx_files
from zhaoshang.quality.validation import prune_results


def _runs(root, suite):
    return sorted(p.name for p in (root / suite / "__none__").iterdir())


def test_only_the_newest_runs_of_each_suite_are_kept(workspace):
    store, docs = gx_files.results_dir(workspace), gx_files.data_docs_dir(workspace) / "validations"
    nights = [f"202612{day:02d}T180000.000000Z" for day in range(1, 11)]
    for root, suffix in ((store, "json"), (docs, "html")):
        for suite in ("dq_findings", "dq_health"):
            for night in nights:
                folder = root / suite / "__none__" / night
                folder.mkdir(parents=True)
                (folder / f"dq_features-int_dq_entries.{suffix}").write_text("{}")
    (docs.parent / "index.html").write_text("<html></html>")

    assert prune_results(workspace, keep=3) == 4 * 7
    for root in (store, docs):
        for suite in ("dq_findings", "dq_health"):
            assert _runs(root, suite) == nights[-3:]
    assert (docs.parent / "index.html").exists()  # the site itself stays
    assert prune_results(workspace, keep=3) == 0  # nothing more to drop
