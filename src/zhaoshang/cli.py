"""Command line: ``python -m zhaoshang <command>``; every command's help is in Chinese and English.

Commands are registered in ``COMMANDS`` (name, Chinese help, English help, options, action), so
``--help``, the README check and ``make help`` all read one list.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from zhaoshang import settings as settings_module
from zhaoshang.bilingual_cli import command_table, localise, make_parser
from zhaoshang.settings import PROJECT_ROOT


@dataclass(frozen=True)
class Command:
    name: str
    zh: str
    en: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    # Commands that parse their own options (generate) get the raw argument list.
    passthrough: Callable[[list[str]], int] | None = None


def _configure_logging() -> None:
    from zhaoshang.logs import install_pii_filter

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    install_pii_filter()
    for noisy in ("great_expectations", "py4j", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def airflow_env() -> dict[str, str]:
    """The embedded Airflow's settings: SQLite in AIRFLOW_HOME, our DAGs, Beijing time, unpaused."""
    env = dict(os.environ)
    env.setdefault("AIRFLOW_HOME", str(PROJECT_ROOT / "airflow_home"))
    env.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(PROJECT_ROOT / "dags"))
    env.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    env.setdefault("AIRFLOW__CORE__DEFAULT_TIMEZONE", "Asia/Shanghai")
    env.setdefault("AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION", "False")
    env.setdefault("GX_ANALYTICS_ENABLED", "false")
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    # `airflow dags test` runs every task in its one process: stages can start the next early.
    env.setdefault("ZHAOSHANG_WARM_START", "1")
    return env


def _log_path(settings: settings_module.Settings) -> Path:
    directory = settings.state_dir / "logs"
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return directory / f"nightly_{datetime.now():%Y%m%d_%H%M%S}.log"


def airflow_run(logical_date: str | None) -> int:
    """``make run``: the nightly DAG through Airflow, one line per stage, then the summary.

    Airflow's, dbt's and GX's own output go to a log file (``VERBOSE=1`` also shows it live);
    the stages report to a progress file this process prints from while Airflow works.
    """
    from zhaoshang import progress

    settings = settings_module.load()
    env = airflow_env()
    log_path = _log_path(settings)
    progress_path = log_path.with_suffix(".progress.jsonl")
    env["ZHAOSHANG_PROGRESS_FILE"] = str(progress_path)
    airflow = str(Path(sys.executable).with_name("airflow"))
    home = Path(env["AIRFLOW_HOME"])
    print(f"日志 / log: {log_path}")
    started = time.monotonic()
    with log_path.open("ab") as log_file:
        if not (home / "airflow.db").exists():
            home.mkdir(parents=True, exist_ok=True)
            print(
                "初始化 Airflow 元数据库 / initialising Airflow's metadata database …", flush=True
            )
            subprocess.run(
                [airflow, "db", "migrate"], env=env, check=True, stdout=log_file, stderr=log_file
            )
        # No date: the run's logical date is now, so the UI shows its real start and duration.
        command = [airflow, "dags", "test", "zhaoshang_nightly"]
        if logical_date:
            command.append(logical_date)
        out = None if settings_module.verbose() else log_file
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=out)
        offset = 0
        records: list[dict] = []
        while True:
            finished = proc.poll() is not None
            new, offset = progress.read_records(progress_path, offset)
            for record in new:
                print(progress.stage_line(record), flush=True)
            records.extend(new)
            if finished:
                break
            time.sleep(0.5)
    elapsed = time.monotonic() - started
    if not settings_module.verbose():
        from zhaoshang.airflow_task_logs import split_task_logs

        split_task_logs(log_path, home, "zhaoshang_nightly")
    if proc.returncode != 0:
        print(
            f"夜间作业失败，已发布的数据仓库保持不变 / the nightly run failed; "
            f"the published warehouse is unchanged. 详见日志 / see {log_path}",
            file=sys.stderr,
        )
        from zhaoshang.guards import fired_lines

        for line in fired_lines(settings_module.load())[-3:]:
            print(line, file=sys.stderr)
        return proc.returncode
    from zhaoshang.pipeline import run_summary

    print()
    print(run_summary(settings, stages=progress.latest_by_stage(records), elapsed_s=elapsed))
    print(f"日志 / log: {log_path}")
    return 0


def _run_airflow(args: argparse.Namespace) -> int:
    return airflow_run(args.date)


def _run_nightly(args: argparse.Namespace) -> int:
    from zhaoshang.guards import PublishGuardFired
    from zhaoshang.locking import RunLocked
    from zhaoshang.pipeline import dump, run_nightly, run_summary

    logical = date.fromisoformat(args.date) if args.date else None
    settings = settings_module.load()
    try:
        report = run_nightly(settings, logical)
    except (RunLocked, PublishGuardFired) as error:  # expected refusals: the message, no trace
        print(str(error), file=sys.stderr)
        return 3
    print(dump(report))
    print(run_summary(settings))
    return 0


def _run_summary(_args: argparse.Namespace) -> int:
    from zhaoshang.pipeline import run_summary

    print(run_summary(settings_module.load()))
    return 0


def _run_docs(_args: argparse.Namespace) -> int:
    from zhaoshang.pipeline import dump, regenerate_docs

    print(dump(regenerate_docs(settings_module.load())))
    return 0


def _restore_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stamp", help="历史版本编号（默认：最近的）/ history stamp (default: the latest)"
    )
    parser.add_argument(
        "--list", action="store_true", help="列出保留的历史版本 / list the kept stamps"
    )
    parser.add_argument(
        "--drill",
        action="store_true",
        help="恢复演练：在临时文件夹中用 landing/ 与历史副本重建台账和汇总表并比对哈希，"
        "不动已发布文件 / restore drill: rebuild ledger rows and marts of a kept night from "
        "landing/ + history in a scratch folder and compare hashes",
    )


def _run_restore(args: argparse.Namespace) -> int:
    from zhaoshang import restore
    from zhaoshang.pipeline import dump

    settings = settings_module.load()
    if args.list:
        print("\n".join(restore.available(settings)) or "无 none")
        return 0
    try:
        if args.drill:
            result = restore.drill(settings, args.stamp)
            print(dump(result))
            return 0 if result["ok"] else 1
        print(dump(restore.restore(settings, args.stamp)))
    except RuntimeError as error:  # nothing kept, unknown stamp, or another run holds the lock
        print(str(error), file=sys.stderr)
        return 1
    return 0


def _date_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--date",
        metavar="YYYY-MM-DD",
        help="要处理的那一夜（默认：现在）/ the night to process (default: now)",
    )


def _no_options(_parser: argparse.ArgumentParser) -> None:
    return None


def _web_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="监听地址 / address to listen on")
    parser.add_argument("--port", type=int, default=8765, help="端口 / port")


def _run_web(args: argparse.Namespace) -> int:
    from zhaoshang.web import serve

    serve(settings_module.load(), host=args.host, port=args.port)
    return 0


def _users_options(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="users_command", required=True, metavar="add|list")
    add = sub.add_parser("add", help="添加用户，密码从标准输入读取 / add a user, password on stdin")
    add.add_argument("name", help="姓名（登录名）/ name (login)")
    add.add_argument(
        "--role",
        required=True,
        choices=["inspector", "leader", "analyst", "admin"],
        help="督查员可登记结论，领导、分析员只读，管理员管理用户 / inspector decides; "
        "leader, analyst read; admin manages users",
    )
    sub.add_parser("list", help="列出用户及角色 / list the users and their roles")


def _run_users(args: argparse.Namespace) -> int:
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


def _report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--year",
        type=int,
        help="年份（默认：已发布的最近月份）/ year (default: the latest published)",
    )
    parser.add_argument(
        "--month",
        type=int,
        choices=range(1, 13),
        metavar="M",
        help="截至月份 1-12（与 --year 同时给出）/ as of month 1-12 (give with --year)",
    )


def _run_report(args: argparse.Namespace) -> int:
    from zhaoshang.pipeline import dump
    from zhaoshang.report import write_report

    if (args.year is None) != (args.month is None):
        print("--year 与 --month 需同时给出 / give both --year and --month", file=sys.stderr)
        return 2
    print(dump(write_report(settings_module.load(), args.year, args.month)))
    return 0


def _sql_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-c",
        dest="sql",
        metavar="SQL",
        help="执行这条 SQL、打印结果后退出 / run this SQL, print the result and exit",
    )


def _run_sql(args: argparse.Namespace) -> int:
    from zhaoshang import sql_shell

    return sql_shell.main(settings_module.load(), args.sql)


def _generate(argv: list[str]) -> int:
    from zhaoshang.generate import main as generate_main

    return generate_main(argv)


def _template_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--year", type=int, required=True, help="报告期年份 / report year")
    parser.add_argument("--month", type=int, required=True, help="报告期月份 / report month")
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--unit", help="units.csv 中的一个单位（名称或别名）/ one unit of units.csv (name or alias)"
    )
    which.add_argument(
        "--all", action="store_true", help="名册中每个单位一份 / one file per unit of the roster"
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="输出文件夹 / folder to write the forms to"
    )
    parser.add_argument("--county", default="", help="标题中的县名，如 夏邑县 / county name")
    parser.add_argument(
        "--rows", type=int, default=30, help="空白项目行数（默认30）/ empty project rows"
    )
    parser.add_argument(
        "--optional-columns",
        action="store_true",
        help="加上本县的可选栏目 / add the county's optional columns",
    )


def _run_template(args: argparse.Namespace) -> int:
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


COMMANDS: tuple[Command, ...] = (
    Command(
        "airflow-run",
        "经 Airflow 运行夜间作业并打印摘要（make run）",
        "run the nightly DAG through Airflow and print a summary (make run)",
        _date_option,
        _run_airflow,
    ),
    Command(
        "nightly",
        "不经 Airflow，在本进程内依次运行夜间作业各阶段",
        "run every nightly stage in this process, without Airflow",
        _date_option,
        _run_nightly,
    ),
    Command(
        "summary",
        "已发布数据仓库的摘要",
        "summary of the published warehouse",
        _no_options,
        _run_summary,
    ),
    Command(
        "docs",
        "为已发布的数据仓库生成 dbt 文档（并给出 GX 数据文档位置）",
        "dbt docs for the published warehouse (and where the GX Data Docs are)",
        _no_options,
        _run_docs,
    ),
    Command(
        "report",
        "根据数据起草工作总结（.docx 与 .html，含图表）",
        "draft the work report (.docx and .html, with charts) for a year as of a month",
        _report_options,
        _run_report,
    ),
    Command(
        "sql",
        "分析人员的只读 SQL 命令行（make sql）",
        "the analysts' read-only SQL shell on the published warehouse (make sql)",
        _sql_options,
        _run_sql,
    ),
    Command(
        "web",
        "启动督查组网页：核查疑点、登记结论、查看与昨晚相比的变化",
        "serve the inspection team's web pages: triage flags, decide, see what changed",
        _web_options,
        _run_web,
    ),
    Command(
        "users",
        "管理网页用户：users add 姓名 --role 角色（密码从标准输入读取）、users list",
        "manage the web users: users add NAME --role R (password on stdin), users list",
        _users_options,
        _run_users,
    ),
    Command(
        "restore",
        "从历史副本恢复已发布的数据仓库（--list 列出，--drill 恢复演练）",
        "put a kept published warehouse back from history (--list, --drill for a restore drill)",
        _restore_options,
        _run_restore,
    ),
    Command(
        "generate",
        "生成已知答案的样例收件箱（详见 generate --help）",
        "write a sample inbox with known answers (see generate --help)",
        _no_options,
        lambda _args: 2,
        passthrough=_generate,
    ),
    Command(
        "template",
        "生成各单位填报的月报表模板（.xlsx）",
        "write the monthly report form (.xlsx) for one unit, every unit or a blank one",
        _template_options,
        _run_template,
    ),
)


def build_parser() -> argparse.ArgumentParser:
    parser = make_parser(
        "python -m zhaoshang",
        "招商引资数据仓库命令行。",
        "County investment-attraction (招商引资) data warehouse command line.",
        epilog="命令 / commands:\n" + command_table([(c.name, c.zh, c.en) for c in COMMANDS]),
    )
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", title="参数 / arguments"
    )
    sub.help = "命令，见下表 / one of the commands below"
    for command in COMMANDS:
        child = sub.add_parser(
            command.name,
            prog=f"python -m zhaoshang {command.name}",
            description=f"{command.zh}\n{command.en}",
            formatter_class=parser.formatter_class,
            add_help=False,
        )
        localise(child)
        command.configure(child)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    for command in COMMANDS:
        if command.passthrough is not None and argv[:1] == [command.name]:
            return command.passthrough(argv[1:])
    args = build_parser().parse_args(argv)
    _configure_logging()
    chosen = next(c for c in COMMANDS if c.name == args.command)
    return chosen.run(args)
