"""A night hashes only the inbox files that are new or changed (issue 12: cost follows the new
files), and still sees every change: the cache is keyed by size, mtime, ctime and inode."""

from __future__ import annotations

import os
import stat

import pytest

from zhaoshang import inbox


@pytest.fixture
def hashed(monkeypatch):
    """The paths sha256_of read, in order (a spy on the real function)."""
    read: list[str] = []
    real = inbox.sha256_of

    def spy(path):
        read.append(path.name)
        return real(path)

    monkeypatch.setattr(inbox, "sha256_of", spy)
    return read


def test_unchanged_files_are_not_read_again_and_changed_ones_are(workspace, hashed):
    unit = workspace.raw_dir / "submissions" / "某乡"
    unit.mkdir(parents=True)
    for k in range(3):
        (unit / f"{k}.xlsx").write_bytes(b"PK" + bytes([k]) * 100)
    cache = inbox.hash_cache_for(workspace.state_dir)

    first = {f.source_file: f.sha256 for f in inbox.scan(workspace.raw_dir, hash_cache=cache)}
    assert sorted(hashed) == ["0.xlsx", "1.xlsx", "2.xlsx"]
    assert stat.S_IMODE(os.stat(cache.path).st_mode) == 0o600

    hashed.clear()
    again = {f.source_file: f.sha256 for f in inbox.scan(workspace.raw_dir, hash_cache=cache)}
    assert hashed == [] and again == first

    # same size, modification time put back: the change time still moved
    changed = unit / "1.xlsx"
    before = changed.stat()
    changed.write_bytes(b"PK" + b"\x09" * 100)
    os.utime(changed, ns=(before.st_atime_ns, before.st_mtime_ns))
    (unit / "3.xlsx").write_bytes(b"PK new")
    hashed.clear()
    third = {f.source_file: f.sha256 for f in inbox.scan(workspace.raw_dir, hash_cache=cache)}
    assert sorted(hashed) == ["1.xlsx", "3.xlsx"]
    assert (
        third["submissions/某乡/1.xlsx"]
        == inbox.sha256_of(changed)
        != first["submissions/某乡/1.xlsx"]
    )

    # a damaged cache is only a cache: everything is hashed again
    cache.path.write_bytes(b"not a database")
    hashed.clear()
    inbox.scan(workspace.raw_dir, hash_cache=cache)
    assert len(hashed) == 4
