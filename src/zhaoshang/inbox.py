"""The inbox (``raw/submissions/**``) and the landing zone.

Files in the inbox belong to the clerks and may change under us; the pipeline therefore works on
content-addressed copies (``landing/<sha256>.xlsx``). A file name is only metadata: it is never
used to build a path, and the unit and month come from the sheet itself.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
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


class HashCache:
    """The sha256 of each inbox file as of its last scan, keyed by what ``stat`` says of it.

    A night then reads only the files that are new or changed, not the whole inbox of five
    years: a file whose size, modification time, change time and inode are all as recorded
    keeps its hash. The change time cannot be set back by a user (a copy that keeps the
    modification time, an edit that restores it: both move it), so a changed file is re-read.
    Only a cache: a missing or unreadable file means every file is hashed again.
    """

    def __init__(self, path: Path):
        self.path = path

    def load(self) -> dict[str, tuple[int, int, int, int, str]]:
        if not self.path.exists():
            return {}
        try:
            con = sqlite3.connect(self.path)
            try:
                rows = con.execute(
                    "select source_file, size, mtime_ns, ctime_ns, inode, sha256 from hashes"
                ).fetchall()
            finally:
                con.close()
        except sqlite3.Error:
            return {}
        return {row[0]: tuple(row[1:]) for row in rows}

    def save(self, entries: dict[str, tuple[int, int, int, int, str]]) -> None:
        """Replace the cache with ``entries`` (tonight's inbox), atomically, owner-only."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        con = sqlite3.connect(tmp)
        try:
            con.execute(
                """create table hashes (source_file text primary key, size integer,
                   mtime_ns integer, ctime_ns integer, inode integer, sha256 text)"""
            )
            con.executemany(
                "insert into hashes values (?, ?, ?, ?, ?, ?)",
                [(name, *entry) for name, entry in entries.items()],
            )
            con.commit()
        finally:
            con.close()
        tmp.chmod(0o600)
        os.replace(tmp, self.path)


def scan(
    raw_dir: Path, *, stable_seconds: float = 0.0, hash_cache: HashCache | None = None
) -> list[InboxFile]:
    """Every stable regular file under ``raw_dir/submissions``, sorted by relative path.

    A file modified less than ``stable_seconds`` ago may still be uploading; it is left for the
    next run rather than read half-written. With ``hash_cache``, unchanged files keep the hash
    of the last scan and the cache is updated to tonight's inbox.
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
    known = hash_cache.load() if hash_cache else {}
    seen: dict[str, tuple[int, int, int, int, str]] = {}
    found: list[InboxFile] = []
    for entry, source_file in _regular_files(str(submissions), "submissions/"):
        stat = entry.stat(follow_symlinks=False)  # not a link: the file's own
        if stable_seconds and now - stat.st_mtime < stable_seconds:
            continue
        key = (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)
        cached = known.get(source_file)
        path = Path(entry.path)
        sha256 = cached[4] if cached is not None and cached[:4] == key else sha256_of(path)
        seen[source_file] = (*key, sha256)
        found.append(
            InboxFile(
                path=path,
                source_file=source_file,
                size_bytes=stat.st_size,
                mtime=datetime.fromtimestamp(stat.st_mtime),
                sha256=sha256,
            )
        )
    if hash_cache is not None and seen != known:
        hash_cache.save(seen)
    return found


def _regular_files(folder: str, relative: str) -> Iterator[tuple[os.DirEntry[str], str]]:
    """(entry, path relative to the raw dir) of the regular files below ``folder``: a folder's
    files by name, then its subfolders by name, as ``os.walk`` orders them. Links are never
    followed out of the inbox, hidden folders and Excel/WPS lock files are skipped, and an
    unreadable subfolder is passed over (as os.walk does). One ``scandir`` a folder: the kind
    of each entry comes with it, so a file costs one ``stat``."""
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError:
        return
    folders = []
    for entry in entries:
        if entry.is_symlink():
            continue
        if entry.is_dir(follow_symlinks=False):
            if not entry.name.startswith("."):
                folders.append(entry)
        elif not entry.name.startswith(_IGNORED_PREFIXES) and entry.is_file(follow_symlinks=False):
            yield entry, relative + entry.name
    for sub in folders:
        yield from _regular_files(sub.path, f"{relative}{sub.name}/")


def hash_cache_for(state_dir: Path) -> HashCache:
    return HashCache(state_dir / "inbox_hashes.sqlite")


# Reports are tens of KB: such a file is read once, hashed and written from memory; a larger one
# (refused later by the sniff's size limit, but landed first) is streamed.
_LAND_IN_MEMORY_BYTES = 8 << 20


def land(file: InboxFile, landing_dir: Path) -> Path:
    """Copy a file into the landing zone under its sha256 (atomic; a no-op if already there)."""
    target = landing_dir / f"{file.sha256}.xlsx"
    if target.exists():
        return target
    landing_dir.mkdir(parents=True, exist_ok=True, mode=0o700)  # originals hold personal data
    tmp = landing_dir / f".{file.sha256}.{os.getpid()}.tmp"
    if file.size_bytes <= _LAND_IN_MEMORY_BYTES:
        with file.path.open("rb") as source:
            content = source.read(_LAND_IN_MEMORY_BYTES + 1)
        copied = hashlib.sha256(content).hexdigest()
        if copied == file.sha256:
            descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "wb") as out:
                out.write(content)
    else:
        shutil.copyfile(file.path, tmp)
        tmp.chmod(0o600)
        copied = sha256_of(tmp)
    if copied != file.sha256:  # changed since the scan: leave it for the next run
        tmp.unlink(missing_ok=True)
        raise FileChangedDuringCopy(file.source_file)
    os.replace(tmp, target)
    return target


def land_all(files: list[InboxFile], landing_dir: Path) -> list[tuple[Path, str]]:
    """``land`` each file; (landed copy, source_file) pairs, as the sandbox reader takes them."""
    return [(land(f, landing_dir), f.source_file) for f in files]


class FileChangedDuringCopy(RuntimeError):
    pass
