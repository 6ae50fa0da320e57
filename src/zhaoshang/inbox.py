"""The inbox (``raw/submissions/**``) and the landing zone.

Files in the inbox belong to the clerks and may change under us; the pipeline therefore works on
content-addressed copies (``landing/<sha256>.xlsx``). A file name is only metadata: it is never
used to build a path, and the unit and month come from the sheet itself.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

# Excel/WPS lock and temp files that sit beside an open workbook.
_IGNORED_PREFIXES = ("~$", ".~lock", ".")


@dataclass(frozen=True)
class InboxFile:
    path: Path
    source_file: str  # relative to the raw dir, with '/' separators
    size_bytes: int
    mtime: datetime
    sha256: str


class InboxUnavailable(RuntimeError):
    """The inbox folder is missing or unreadable: fail before touching the ledger."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def scan(raw_dir: Path, *, stable_seconds: float = 0.0) -> list[InboxFile]:
    """Every stable regular file under ``raw_dir/submissions``, sorted by relative path.

    A file modified less than ``stable_seconds`` ago may still be uploading; it is left for the
    next run rather than read half-written.
    """
    submissions = raw_dir / "submissions"
    if not submissions.is_dir():
        raise InboxUnavailable(
            f"收件箱不存在或不是文件夹：{submissions} / inbox folder not found: {submissions}"
        )
    if not os.access(submissions, os.R_OK | os.X_OK):
        raise InboxUnavailable(
            f"无权读取收件箱：{submissions} / inbox is not readable: {submissions}"
        )
    now = time.time()
    found: list[InboxFile] = []
    for dirpath, dirnames, filenames in os.walk(submissions):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(_IGNORED_PREFIXES):
                continue
            path = Path(dirpath) / name
            if path.is_symlink() or not path.is_file():
                continue  # never follow links out of the inbox
            stat = path.stat()
            if stable_seconds and now - stat.st_mtime < stable_seconds:
                continue
            found.append(
                InboxFile(
                    path=path,
                    source_file=path.relative_to(raw_dir).as_posix(),
                    size_bytes=stat.st_size,
                    mtime=datetime.fromtimestamp(stat.st_mtime),
                    sha256=sha256_of(path),
                )
            )
    return found


def land(file: InboxFile, landing_dir: Path) -> Path:
    """Copy a file into the landing zone under its sha256 (atomic; a no-op if already there)."""
    landing_dir.mkdir(parents=True, exist_ok=True, mode=0o700)  # originals hold personal data
    target = landing_dir / f"{file.sha256}.xlsx"
    if target.exists():
        return target
    tmp = landing_dir / f".{file.sha256}.{os.getpid()}.tmp"
    shutil.copyfile(file.path, tmp)
    tmp.chmod(0o600)
    if sha256_of(tmp) != file.sha256:  # changed while we copied: leave it for the next run
        tmp.unlink()
        raise FileChangedDuringCopy(file.source_file)
    os.replace(tmp, target)
    return target


class FileChangedDuringCopy(RuntimeError):
    pass
