"""Command line: ``python -m zhaoshang <command>``.

``nightly``      run every stage in this process, without Airflow;
``airflow-run``  run the nightly DAG through Airflow (``dag.test()``) on the embedded defaults
                 (SQLite metadata in ``AIRFLOW_HOME``) and print a summary — what ``make run`` does;
``generate``     write a sample inbox with known answers;
``summary``      print the summary of the published warehouse;
``template``     write the monthly report form for one unit, every unit, or a blank one.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from zhaoshang import settings as settings_module
from zhaoshang.settings import PROJECT_ROOT


def _configure_logging() -> None:
    from zhaoshang.logs import install_pii_filter

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    install_pii_filter()
    for noisy in ("great_expectations", "py4j", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _airflow_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("AIRFLOW_HOME", str(PROJECT_ROOT / "airflow_home"))
    env.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(PROJECT_ROOT / "dags"))
    env.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    env.setdefault("GX_ANALYTICS_ENABLED", "false")
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    return env


def airflow_run(logical_date: str | None) -> int:
    """Migrate the metadata DB if needed, then `airflow dags test` the nightly DAG."""
    env = _airflow_env()
    airflow = str(Path(sys.executable).with_name("airflow"))
    home = Path(env["AIRFLOW_HOME"])
    if not (home / "airflow.db").exists():
        home.mkdir(parents=True, exist_ok=True)
        subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True)
    day = logical_date or date.today().isoformat()
    proc = subprocess.run([airflow, "dags", "test", "zhaoshang_nightly", day], env=env, check=False)
    if proc.returncode != 0:
        print(
            "夜间作业失败，已发布的数据仓库保持不变 / the nightly run failed; "
            "the published warehouse is unchanged",
            file=sys.stderr,
        )
        return proc.returncode
    print()
    print(_summary())
    return 0


def _summary() -> str:
    from zhaoshang.pipeline import run_summary

    return run_summary(settings_module.load())


def _template(args: argparse.Namespace) -> int:
    from zhaoshang.forms import write_templates
    from zhaoshang.reference import ReferenceDataError

    try:
        written = write_templates(
            args.out,
            args.year,
            args.month,
            settings_module.load().units_csv,
            unit_name=args.unit,
            all_units=args.all,
            county_name=args.county,
            data_rows=args.rows,
            optional_columns=args.optional_columns,
        )
    except (ReferenceDataError, ValueError) as error:
        print(error, file=sys.stderr)
        return 2
    for path in written:
        print(path)
    print(f"已生成 {len(written)} 份月报表 / wrote {len(written)} form(s)", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["generate"]:  # the generator parses its own options
        from zhaoshang.generate import main as generate_main

        return generate_main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="zhaoshang", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    nightly = sub.add_parser("nightly", help="run all stages without Airflow")
    nightly.add_argument("--date", help="logical date YYYY-MM-DD (default: today)")
    af = sub.add_parser(
        "airflow-run", help="run the nightly DAG through Airflow and print a summary"
    )
    af.add_argument("--date", help="logical date YYYY-MM-DD (default: today)")
    sub.add_parser("summary", help="summary of the published warehouse")
    sub.add_parser(
        "docs", help="dbt docs (and where the GX Data Docs are) for the published warehouse"
    )
    sub.add_parser("generate", help="write a sample inbox with known answers (see generate --help)")
    form = sub.add_parser("template", help="write the monthly report form (.xlsx) for units")
    form.add_argument("--year", type=int, required=True)
    form.add_argument("--month", type=int, required=True)
    which = form.add_mutually_exclusive_group()
    which.add_argument("--unit", help="one unit of units.csv (its name or an alias)")
    which.add_argument("--all", action="store_true", help="one file per unit of the year's roster")
    form.add_argument("--out", type=Path, required=True, help="folder to write the forms to")
    form.add_argument("--county", default="", help="county name for the title, e.g. 夏邑县")
    form.add_argument("--rows", type=int, default=30, help="empty project rows (default 30)")
    form.add_argument(
        "--optional-columns", action="store_true", help="add the county's optional columns"
    )
    args = parser.parse_args(argv)
    _configure_logging()
    if args.command == "airflow-run":
        return airflow_run(args.date)
    if args.command == "docs":
        from zhaoshang.pipeline import dump, regenerate_docs

        print(dump(regenerate_docs(settings_module.load())))
        return 0
    if args.command == "template":
        return _template(args)
    if args.command == "summary":
        print(_summary())
        return 0
    if args.command == "nightly":
        from zhaoshang.pipeline import dump, run_nightly

        logical = date.fromisoformat(args.date) if args.date else None
        report = run_nightly(settings_module.load(), logical)
        print(dump(report))
        print(_summary())
        return 0
    return 2
