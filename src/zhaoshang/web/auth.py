"""Users, passwords and login throttling for the web pages (RELIABILITY §7 roles).

Passwords are stored as argon2id hashes (argon2-cffi, the library's recommended parameters).
A name with ``MAX_FAILURES`` failed logins within ``LOCKOUT_MINUTES`` is locked for that long,
whether or not the name exists, so the lock says nothing about which names are real. Names never
go to the log: they are personal names.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from zhaoshang.decisions import ROLES_ZH

MAX_FAILURES = 5
LOCKOUT_MINUTES = 15
MIN_PASSWORD_CHARS = 8
# Who may do what: inspectors decide, admins manage users (the command), everyone logged in reads.
DECIDING_ROLES = frozenset({"inspector"})

_hasher = PasswordHasher()
# Verifying against this when the name is unknown keeps the timing of both answers alike.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class UserError(ValueError):
    """A user command that cannot be done (message in Chinese and English)."""


@dataclass(frozen=True)
class User:
    name: str
    role: str

    @property
    def role_zh(self) -> str:
        return ROLES_ZH.get(self.role, self.role)

    @property
    def may_decide(self) -> bool:
        return self.role in DECIDING_ROLES


def add_user(con: sqlite3.Connection, name: str, role: str, password: str) -> User:
    name = name.strip()
    if not name or len(name) > 40 or any(c in name for c in "\r\n\t"):
        raise UserError("用户名无效 / invalid user name")
    if role not in ROLES_ZH:
        raise UserError(f"角色应为 {'/'.join(ROLES_ZH)} / role must be one of {sorted(ROLES_ZH)}")
    if len(password) < MIN_PASSWORD_CHARS:
        raise UserError(
            f"密码至少{MIN_PASSWORD_CHARS}位 / the password needs {MIN_PASSWORD_CHARS}+ characters"
        )
    exists = con.execute("select 1 from users where name = ?", [name]).fetchone()
    if exists:
        raise UserError("用户已存在 / the user exists already")
    con.execute(
        "insert into users (name, role, password_hash, created_at) values (?, ?, ?, ?)",
        [name, role, _hasher.hash(password), datetime.now(UTC).isoformat()],
    )
    return User(name, role)


def list_users(con: sqlite3.Connection) -> list[User]:
    rows = con.execute("select name, role from users where disabled = 0 order by name").fetchall()
    return [User(*r) for r in rows]


def is_locked(con: sqlite3.Connection, name: str, now: datetime | None = None) -> bool:
    now = now or datetime.now(UTC)
    since = (now - timedelta(minutes=LOCKOUT_MINUTES)).isoformat()
    count = con.execute(
        "select count(*) from login_failures where name = ? and failed_at >= ?", [name, since]
    ).fetchone()[0]
    return count >= MAX_FAILURES


def authenticate(con: sqlite3.Connection, name: str, password: str) -> User | None:
    """The user if the password matches and the name is not locked; records a failure if not."""
    name = (name or "").strip()[:40]
    if is_locked(con, name):
        return None
    row = con.execute(
        "select role, password_hash from users where name = ? and disabled = 0", [name]
    ).fetchone()
    try:
        _hasher.verify(row[1] if row else _DUMMY_HASH, password or "")
        ok = row is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok:
        con.execute(
            "insert into login_failures (name, failed_at) values (?, ?)",
            [name, datetime.now(UTC).isoformat()],
        )
        return None
    con.execute("delete from login_failures where name = ?", [name])
    if _hasher.check_needs_rehash(row[1]):
        con.execute(
            "update users set password_hash = ? where name = ?", [_hasher.hash(password), name]
        )
    return User(name, row[0])


def current_user(con: sqlite3.Connection, name: str | None) -> User | None:
    """The session's user, if still enabled (a disabled user's session stops working)."""
    if not name:
        return None
    row = con.execute("select role from users where name = ? and disabled = 0", [name]).fetchone()
    return User(name, row[0]) if row else None
