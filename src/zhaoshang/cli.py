"""Command line: ``python -m zhaoshang <command>``.

``nightly``      run every stage in this process, without Airflow;
``airflow-run``  run the nightly DAG through Airflow (``dag.test()``) on the embedded defaults
                 (SQLite metadata in ``AIRFLOW_HOME``) and print a summary — what ``make run`` does;
``generate``     write a sample inbox with known answers;
``summary``      print the summary of the published warehouse;
``report``       draft the work report (.docx and .html with charts) for a year as of a month;
``sql``          the analysts' read-only SQL shell on the published warehouse.
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
    rep = sub.add_parser("report", help="draft the work report for a year as of a month")
    rep.add_argument("--year", type=int, help="year (default: the latest published)")
    rep.add_argument("--month", type=int, help="as of month 1-12 (default: the latest published)")
    sql = sub.add_parser("sql", help="read-only SQL shell on the analysts' warehouse")
    sql.add_argument("-c", dest="command_sql", help="run this SQL, print the result and exit")
    args = parser.parse_args(argv)
    if args.command == "sql":  # no logging set-up: the shell's output is the analyst's
        from zhaoshang import sql_shell

        return sql_shell.main(settings_module.load(), args.command_sql)
    _configure_logging()
    if args.command == "airflow-run":
        return airflow_run(args.date)
    if args.command == "docs":
        from zhaoshang.pipeline import dump, regenerate_docs

        print(dump(regenerate_docs(settings_module.load())))
        return 0
    if args.command == "report":
        from zhaoshang.pipeline import dump
        from zhaoshang.report import write_report

        if (args.year is None) != (args.month is None):
            parser.error("--year 与 --month 需同时给出 / give both --year and --month")
        if args.month is not None and not 1 <= args.month <= 12:
            parser.error("--month 应为 1-12 / --month must be 1-12")
        print(dump(write_report(settings_module.load(), args.year, args.month)))
        return 0
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
