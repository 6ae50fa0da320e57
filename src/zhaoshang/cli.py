"""Command line: ``python -m zhaoshang <command>``.

``nightly``      run every stage in this process, without Airflow;
``airflow-run``  run the nightly DAG through Airflow (``dag.test()``) on the embedded defaults
                 (SQLite metadata in ``AIRFLOW_HOME``) and print a summary — what ``make run`` does;
``generate``     write a sample inbox with known answers;
``summary``      print the summary of the published warehouse;
``restore``      put a kept published warehouse back from history (``--list``, ``--stamp``).
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
        from zhaoshang.guards import fired_lines

        for line in fired_lines(settings_module.load())[-3:]:
            print(line, file=sys.stderr)
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
    restore = sub.add_parser("restore", help="put a kept published warehouse back (history)")
    restore.add_argument("--stamp", help="history stamp (default: the latest); see --list")
    restore.add_argument("--list", action="store_true", help="list the kept stamps")
    restore.add_argument(
        "--drill",
        action="store_true",
        help="rebuild ledger and marts of a kept night from landing/ + history in a scratch "
        "folder and compare hashes (nothing published is touched)",
    )
    args = parser.parse_args(argv)
    _configure_logging()
    if args.command == "airflow-run":
        return airflow_run(args.date)
    if args.command == "docs":
        from zhaoshang.pipeline import dump, regenerate_docs

        print(dump(regenerate_docs(settings_module.load())))
        return 0
    if args.command == "restore":
        from zhaoshang import restore as restore_module
        from zhaoshang.pipeline import dump

        loaded = settings_module.load()
        if args.list:
            print("\n".join(restore_module.available(loaded)) or "无 none")
            return 0
        if args.drill:
            result = restore_module.drill(loaded, args.stamp)
            print(dump(result))
            return 0 if result["ok"] else 1
        try:
            print(dump(restore_module.restore(loaded, args.stamp)))
        except (restore_module.NothingToRestore, RuntimeError) as error:
            print(str(error), file=sys.stderr)
            return 1
        return 0
    if args.command == "summary":
        print(_summary())
        return 0
    if args.command == "nightly":
        from zhaoshang.guards import PublishGuardFired
        from zhaoshang.locking import RunLocked
        from zhaoshang.pipeline import dump, run_nightly

        logical = date.fromisoformat(args.date) if args.date else None
        try:
            report = run_nightly(settings_module.load(), logical)
        except (RunLocked, PublishGuardFired) as error:  # expected refusals: the message, no trace
            print(str(error), file=sys.stderr)
            return 3
        print(dump(report))
        print(_summary())
        return 0
    return 2
