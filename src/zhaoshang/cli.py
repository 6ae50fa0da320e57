"""Command line: ``python -m zhaoshang <command>``.

``nightly``      run every stage in this process, without Airflow;
``airflow-run``  run the nightly DAG through Airflow (``dag.test()``) on the embedded defaults
                 (SQLite metadata in ``AIRFLOW_HOME``) and print a summary — what ``make run`` does;
``generate``     write a sample inbox with known answers;
``summary``      print the summary of the published warehouse;
``web``          serve the inspection team's web pages;
``users``        manage the web pages' users (``users add NAME --role R``, password on stdin).
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


def _users(args) -> int:
    import getpass

    from zhaoshang import decisions
    from zhaoshang.web import auth

    settings = settings_module.load()
    with decisions.writer(settings) as con:
        if args.users_command == "list":
            for user in auth.list_users(con):
                print(f"{user.name}\t{user.role}\t{user.role_zh}")
            return 0
        if sys.stdin.isatty():
            password = getpass.getpass("密码 / password: ")
        else:
            password = sys.stdin.readline().rstrip("\r\n")
        try:
            user = auth.add_user(con, args.name, args.role, password)
        except auth.UserError as error:
            print(error, file=sys.stderr)
            return 1
    print(f"已添加用户 / added user ({user.role_zh} {user.role})")
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
    web = sub.add_parser("web", help="serve the inspection team's web pages")
    web.add_argument("--host", default="127.0.0.1")
    web.add_argument("--port", type=int, default=8765)
    users = sub.add_parser("users", help="web users: add NAME --role R (password on stdin), list")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="add a user; the password is read from stdin")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["inspector", "leader", "analyst", "admin"])
    users_sub.add_parser("list", help="list the users and their roles")
    args = parser.parse_args(argv)
    _configure_logging()
    if args.command == "airflow-run":
        return airflow_run(args.date)
    if args.command == "docs":
        from zhaoshang.pipeline import dump, regenerate_docs

        print(dump(regenerate_docs(settings_module.load())))
        return 0
    if args.command == "summary":
        print(_summary())
        return 0
    if args.command == "web":
        from zhaoshang.web import serve

        serve(settings_module.load(), host=args.host, port=args.port)
        return 0
    if args.command == "users":
        return _users(args)
    if args.command == "nightly":
        from zhaoshang.pipeline import dump, run_nightly

        logical = date.fromisoformat(args.date) if args.date else None
        report = run_nightly(settings_module.load(), logical)
        print(dump(report))
        print(_summary())
        return 0
    return 2
