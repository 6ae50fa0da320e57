"""The single reader of ``ZHAOSHANG_*`` environment variables.

Every other module (CLI, DAG tasks, dbt via ``env_var()``, tests) gets paths and knobs from here,
with the data contract's defaults. Settings are read at call time, never at import time, so a
test or an operator can point the pipeline at another inbox by setting variables.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
REFERENCE_RULES_DIR = DBT_PROJECT_DIR / "seeds"

DEFAULT_COUNTY_CODE = "411426"  # 夏邑县, Shangqiu, Henan


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None
    password: str | None
    use_ssl: bool
    starttls: bool
    sender: str

    def __repr__(self) -> str:  # never print the password
        return f"SmtpSettings(host={self.host!r}, port={self.port}, user={self.username!r})"


@dataclass(frozen=True)
class Settings:
    raw_dir: Path
    warehouse: Path
    output_dir: Path
    state_dir: Path
    county_code: str
    alert_to: tuple[str, ...]
    smtp_url: str | None
    alert_from: str
    # A file modified less than this many seconds ago may still be uploading: left for the next
    # run. 0 (default) takes every file; a git checkout or copy sets fresh mtimes.
    stable_seconds: float = 0.0
    # The inspection team's published file (full evidence, quarantine, submission history);
    # ``warehouse`` is the analysts' (masked, marts and the audit tables they need).
    inspection_warehouse: Path | None = None
    # ZHAOSHANG_ALLOW_RESET=1: publish even if the publish guard sees an emptied inbox or a
    # collapsed load (an intended reset). Never set it permanently.
    allow_reset: bool = False
    # How long a second nightly run waits for the one holding the lock before it gives up.
    lock_wait_seconds: float = 1800.0
    history_keep: int = 7
    # ZHAOSHANG_FULL_REFRESH=1: tonight's dbt build starts from nothing instead of from the last
    # published build (after a rule change in the data, a repair, or to check an incremental night).
    full_refresh: bool = False
    # OS groups that may read the published files (0440); without one: analysts' 0444,
    # inspection team's 0400.
    analyst_group: str | None = None
    inspection_group: str | None = None
    # Files per parse batch when the DAG fans parsing out over workers (ZHAOSHANG_BATCH_FILES).
    batch_files: int = 200
    # The inspection team's web pages (python -m zhaoshang web): e-mails link to this address
    # (none: no links); the session cookie is signed with the secret (none: one is generated
    # in the state dir); a login lasts this long.
    web_base_url: str | None = None
    web_secret: str | None = None
    web_session_minutes: int = 480
    # ZHAOSHANG_WARM_START=1: one process runs every stage of the night (make run, `nightly`):
    # start the next dbt child and import GX while earlier stages work. Off on Airflow workers,
    # where a task's process ends with the task.
    warm_start: bool = False

    @property
    def submissions_dir(self) -> Path:
        return self.raw_dir / "submissions"

    @property
    def reference_dir(self) -> Path:
        return self.raw_dir / "reference"

    @property
    def units_csv(self) -> Path:
        return self.reference_dir / "units.csv"

    @property
    def ledger_path(self) -> Path:
        """The accumulating source of truth; only the nightly run opens it (read-write)."""
        return self.state_dir / "ledger.duckdb"

    @property
    def landing_dir(self) -> Path:
        """Content-addressed copies of every submission ever seen (landing/<sha256>.xlsx)."""
        return self.state_dir / "landing"

    @property
    def build_dir(self) -> Path:
        """Where a run builds its warehouse before the atomic publish."""
        return self.state_dir / "build"

    @property
    def inspection_path(self) -> Path:
        return self.inspection_warehouse or self.warehouse.with_name(
            f"{self.warehouse.stem}_inspection{self.warehouse.suffix}"
        )

    @property
    def lock_path(self) -> Path:
        """flock'ed by the nightly run for its whole life (zhaoshang.locking)."""
        return self.state_dir / "nightly.lock"

    @property
    def history_dir(self) -> Path:
        """The last published warehouses, kept for rollback."""
        return self.state_dir / "published_history"

    def smtp(self) -> SmtpSettings | None:
        return parse_smtp_url(self.smtp_url, self.alert_from) if self.smtp_url else None

    def dbt_env(self) -> dict[str, str]:
        """Environment for a dbt subprocess: the same variables dbt reads with env_var()."""
        return {
            "ZHAOSHANG_RAW_DIR": str(self.raw_dir),
            "ZHAOSHANG_LEDGER": str(self.ledger_path),
            "ZHAOSHANG_COUNTY_CODE": self.county_code,
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }


def _path(name: str, default: str) -> Path:
    """An explicit relative value is taken from the working directory; defaults from the project
    root, so Airflow workers (whatever their working directory) find the bundled inbox."""
    value = os.environ.get(name)
    path = Path(value).expanduser() if value else PROJECT_ROOT / default
    return path if path.is_absolute() else (Path.cwd() / path).resolve()


def load() -> Settings:
    """Read the environment now (not at import) and return typed settings."""
    warehouse = _path("ZHAOSHANG_WAREHOUSE", "warehouse/zhaoshang.duckdb")
    state_default = str(warehouse.parent / ".zhaoshang_state")
    county = os.environ.get("ZHAOSHANG_COUNTY_CODE") or DEFAULT_COUNTY_CODE
    if not (len(county) == 6 and county.isdigit()):
        raise ValueError(f"ZHAOSHANG_COUNTY_CODE must be 6 digits, got {county!r}")
    alert_to = tuple(
        a.strip() for a in (os.environ.get("ZHAOSHANG_ALERT_TO") or "").split(",") if a.strip()
    )
    return Settings(
        raw_dir=_path("ZHAOSHANG_RAW_DIR", "raw"),
        warehouse=warehouse,
        output_dir=_path("ZHAOSHANG_OUTPUT_DIR", "output"),
        state_dir=_path("ZHAOSHANG_STATE_DIR", state_default),
        county_code=county,
        alert_to=alert_to,
        smtp_url=os.environ.get("ZHAOSHANG_SMTP_URL") or None,
        alert_from=os.environ.get("ZHAOSHANG_ALERT_FROM") or "zhaoshang-warehouse@localhost",
        stable_seconds=float(os.environ.get("ZHAOSHANG_STABLE_SECONDS") or 0),
        inspection_warehouse=(
            _path("ZHAOSHANG_INSPECTION_WAREHOUSE", "")
            if os.environ.get("ZHAOSHANG_INSPECTION_WAREHOUSE")
            else None
        ),
        allow_reset=(os.environ.get("ZHAOSHANG_ALLOW_RESET") or "").lower() in {"1", "true", "yes"},
        lock_wait_seconds=float(os.environ.get("ZHAOSHANG_LOCK_WAIT_SECONDS") or 1800),
        history_keep=max(1, int(os.environ.get("ZHAOSHANG_HISTORY_KEEP") or 7)),
        full_refresh=(os.environ.get("ZHAOSHANG_FULL_REFRESH") or "").lower()
        in {"1", "true", "yes"},
        analyst_group=os.environ.get("ZHAOSHANG_ANALYST_GROUP") or None,
        inspection_group=os.environ.get("ZHAOSHANG_INSPECTION_GROUP") or None,
        batch_files=_positive_int("ZHAOSHANG_BATCH_FILES", 200),
        web_base_url=(os.environ.get("ZHAOSHANG_WEB_BASE_URL") or "").rstrip("/") or None,
        web_secret=os.environ.get("ZHAOSHANG_WEB_SECRET") or None,
        web_session_minutes=int(os.environ.get("ZHAOSHANG_WEB_SESSION_MINUTES") or 480),
        warm_start=(os.environ.get("ZHAOSHANG_WARM_START") or "").lower() in {"1", "true", "yes"},
    )


def _positive_int(name: str, default: int) -> int:
    text = os.environ.get(name) or str(default)
    if not (text.isdigit() and int(text) > 0):
        raise ValueError(f"{name} 必须是正整数 / must be a positive integer, got {text!r}")
    return int(text)


def progress_file() -> Path | None:
    """Where stages report progress for the terminal (set by ``airflow-run``); None = nowhere."""
    value = os.environ.get("ZHAOSHANG_PROGRESS_FILE")
    return Path(value) if value else None


def verbose() -> bool:
    """``VERBOSE=1``: show Airflow's, dbt's and GX's own logs live instead of only in the log file."""
    return (os.environ.get("VERBOSE") or "").strip().lower() in {"1", "true", "yes"}


def parse_smtp_url(url: str, sender: str) -> SmtpSettings:
    """``smtp://user:pass@host:port`` (plain or STARTTLS with ?starttls=1) or ``smtps://`` (SSL)."""
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtps"}:
        raise ValueError("ZHAOSHANG_SMTP_URL must start with smtp:// or smtps://")
    query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
    use_ssl = parts.scheme == "smtps"
    return SmtpSettings(
        host=parts.hostname or "localhost",
        port=parts.port or (465 if use_ssl else 25),
        username=parts.username,
        password=parts.password,
        use_ssl=use_ssl,
        starttls=query.get("starttls", "0") in {"1", "true", "yes"},
        sender=query.get("from", sender),
    )


def smtp_url_from_parts(
    host: str | None,
    port: int | None,
    user: str | None,
    password: str | None,
    *,
    ssl: object = None,
) -> str | None:
    """An SMTP URL from connection parts (e.g. Airflow's `smtp_default` connection)."""
    if not host:
        return None
    from urllib.parse import quote

    scheme = "smtps" if str(ssl).lower() in {"true", "1"} else "smtp"
    auth = f"{quote(user, safe='')}:{quote(password or '', safe='')}@" if user else ""
    return f"{scheme}://{auth}{host}:{port or (465 if scheme == 'smtps' else 25)}"
