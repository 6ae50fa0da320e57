"""Benchmark of the nightly pipeline: ``make bench`` / ``python -m zhaoshang.bench``.

For a county-year (66 units x 12 monthly reports) and a province-year (150 counties' December
reports, ``--counties`` / ``--quick`` to scale down) it measures, each stage in its own process:

* ingestion (``pipeline.load_submissions``): seconds, files/s, rows/s, peak memory, and the ratio
  to the raw parse of the same files by python-calamine (goal <= 1.25x); openpyxl read-only on a
  sample for comparison;
* dbt pass 1 (features) and pass 2 (marts, docs), with the fixed cost measured on an empty ledger;
* the Great Expectations stage (``validate_entries``): seconds and peak memory.

Inboxes are generated once into ``bench/data/<case>/`` and reused; results go to
``bench/results/<timestamp>.json``. Modules: ``runner`` (cases, orchestration), ``stages`` (what
runs in each measured process), ``measure`` (wall time, rusage, tree RSS), ``profile`` (cProfile
of the loader, ``--profile``), ``report`` (derived figures, table).
"""
