"""The inspection team's decisions store: one SQLite file in the state dir, written by the web app.

Not the ledger (the ETL account's) and not a published file (rebuilt every night): decisions are
the team's own work and must survive both. SQLite in WAL mode lets the one writer (the web app)
commit while the nightly run reads a consistent snapshot through a read-only connection
(``mode=ro``), so a decision recorded during the night either makes that night's build or the
next one, never half of it.

Every decision is kept (full history: who, when, note); the latest one per flag is the flag's
decision. The file also holds the web app's users (argon2 hashes) and failed logins, because
they belong to the same writer.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from zhaoshang.settings import Settings

# decision -> the Chinese the pages and e-mails show; the values are audit.dq_flags.status too.
DECISIONS_ZH = {
    "confirmed": "确认属实",
    "dismissed": "排除",
    "follow_up": "需跟进",
}
ROLES_ZH = {
    "inspector": "督查员",
    "leader": "领导",
    "analyst": "分析员",
    "admin": "管理员",
}
NOTE_MAX_CHARS = 1000
# The office's clock: CSV decisions are typed in local time, so store times are compared in it.
LOCAL_TZ = ZoneInfo("Asia/Shanghai")

SCHEMA = (
    """create table if not exists decisions (
        decision_id integer primary key autoincrement,
        flag_key text not null,
        decision text not null check (decision in ('confirmed', 'dismissed', 'follow_up')),
        note text not null check (length(trim(note)) > 0),
        decided_by text not null,
        decided_at text not null
    )""",
    "create index if not exists decisions_by_flag on decisions (flag_key, decision_id)",
    """create table if not exists users (
        name text primary key,
        role text not null check (role in ('inspector', 'leader', 'analyst', 'admin')),
        password_hash text not null,
        created_at text not null,
        disabled integer not null default 0
    )""",
    """create table if not exists login_failures (
        name text not null,
        failed_at text not null
    )""",
)


class DecisionRejected(ValueError):
    """A decision the store refuses (unknown kind, empty note): message in Chinese and English."""


@dataclass(frozen=True)
class Decision:
    flag_key: str
    decision: str
    note: str
    decided_by: str
    decided_at: datetime  # aware, UTC

    @property
    def decision_zh(self) -> str:
        return DECISIONS_ZH.get(self.decision, self.decision)

    @property
    def decided_at_local(self) -> datetime:
        return self.decided_at.astimezone(LOCAL_TZ)


def store_path(settings: Settings) -> Path:
    return settings.state_dir / "decisions.sqlite"


@contextmanager
def writer(settings: Settings) -> Iterator[sqlite3.Connection]:
    """The web app's connection: WAL, waits briefly for a lock instead of failing."""
    path = store_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=10, isolation_level=None)
    try:
        con.execute("pragma journal_mode = wal")
        con.execute("pragma synchronous = full")  # a decision acknowledged is on disk
        con.execute("pragma foreign_keys = on")
        for statement in SCHEMA:
            con.execute(statement)
        yield con
    finally:
        con.close()


@contextmanager
def reader(settings: Settings) -> Iterator[sqlite3.Connection | None]:
    """The nightly run's connection: read-only, never creates the file; None when there is none."""
    path = store_path(settings)
    if not path.exists():
        yield None
        return
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
    try:
        yield con
    finally:
        con.close()


def _now() -> datetime:
    return datetime.now(UTC)


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def record(
    con: sqlite3.Connection,
    *,
    flag_key: str,
    decision: str,
    note: str,
    decided_by: str,
    when: datetime | None = None,
) -> Decision:
    """Append one decision (the history is never rewritten)."""
    note = (note or "").strip()
    if decision not in DECISIONS_ZH:
        raise DecisionRejected(f"未知的结论 / unknown decision: {decision!r}")
    if not note:
        raise DecisionRejected("请填写说明 / a note is required")
    if len(note) > NOTE_MAX_CHARS:
        raise DecisionRejected(
            f"说明最多{NOTE_MAX_CHARS}字 / the note is limited to {NOTE_MAX_CHARS} characters"
        )
    when = (when or _now()).astimezone(UTC)
    con.execute(
        "insert into decisions (flag_key, decision, note, decided_by, decided_at) values (?,?,?,?,?)",
        [flag_key, decision, note, decided_by, when.isoformat()],
    )
    return Decision(flag_key, decision, note, decided_by, when)


def _rows(cursor) -> list[Decision]:
    return [Decision(r[0], r[1], r[2], r[3], _parse(r[4])) for r in cursor.fetchall()]


def history(con: sqlite3.Connection, flag_key: str) -> list[Decision]:
    """Every decision on a flag, newest first."""
    return _rows(
        con.execute(
            """select flag_key, decision, note, decided_by, decided_at from decisions
               where flag_key = ? order by decision_id desc""",
            [flag_key],
        )
    )


def latest(con: sqlite3.Connection | None) -> dict[str, Decision]:
    """flag_key -> its latest decision."""
    if con is None:
        return {}
    found = con.execute(
        "select count(*) from sqlite_master where type = 'table' and name = 'decisions'"
    ).fetchone()[0]
    if not found:
        return {}
    decisions = _rows(
        con.execute(
            """select flag_key, decision, note, decided_by, decided_at from decisions d
               where decision_id = (select max(decision_id) from decisions where flag_key = d.flag_key)"""
        )
    )
    return {d.flag_key: d for d in decisions}


def for_build(settings: Settings) -> list[tuple]:
    """The latest store decision per flag, as rows of ``dq.flag_decisions`` (local naive time,
    as the CSV's ``decided_at`` is typed, so dbt's latest-wins compares like with like)."""
    with reader(settings) as con:
        decisions = latest(con)
    return [
        (
            d.flag_key,
            d.decision,
            d.decided_by,
            d.decided_at_local.replace(tzinfo=None, microsecond=0),
            d.note,
        )
        for d in decisions.values()
    ]
