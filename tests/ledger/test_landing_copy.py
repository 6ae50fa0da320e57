"""The landing copy (``inbox.land``): the bytes the scan hashed, owner-only, or nothing at all.

A report is read once and written from memory; a file larger than that bound is streamed. Both
paths must refuse a file that changed after the scan (its hash no longer the one recorded) and
leave no partial copy behind.
"""

from __future__ import annotations

import os
import stat

import pytest

from zhaoshang import inbox


def _one_file(workspace, content: bytes) -> inbox.InboxFile:
    unit = workspace.raw_dir / "submissions" / "某乡"
    unit.mkdir(parents=True)
    (unit / "12月.xlsx").write_bytes(content)
    (found,) = inbox.scan(workspace.raw_dir)
    return found


@pytest.mark.parametrize("size", [5_000, inbox._LAND_IN_MEMORY_BYTES + 10])
def test_a_landed_copy_has_the_scanned_bytes_and_is_private(workspace, size):
    content = os.urandom(size)
    found = _one_file(workspace, content)

    landed = inbox.land(found, workspace.landing_dir)

    assert landed.name == f"{found.sha256}.xlsx"
    assert landed.read_bytes() == content
    assert stat.S_IMODE(landed.stat().st_mode) == 0o600
    assert inbox.land(found, workspace.landing_dir) == landed  # a second landing is a no-op
    assert [p.name for p in workspace.landing_dir.iterdir()] == [landed.name]


@pytest.mark.parametrize("size", [5_000, inbox._LAND_IN_MEMORY_BYTES + 10])
def test_a_file_changed_after_the_scan_is_not_landed(workspace, size):
    found = _one_file(workspace, b"A" * size)
    found.path.write_bytes(b"B" * size)  # the clerk saved again between scan and copy

    with pytest.raises(inbox.FileChangedDuringCopy):
        inbox.land(found, workspace.landing_dir)

    assert list(workspace.landing_dir.iterdir()) == []  # no copy, no temp file
