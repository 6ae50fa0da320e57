"""What a night sees of the inbox (``inbox.scan``): regular files only, in a fixed order (a
folder's files by name, then its subfolders by name), never through a link, without lock files
or hidden folders; each with its size, modification time and sha256."""

from __future__ import annotations

import hashlib
import os
from datetime import datetime

from zhaoshang import inbox


def test_the_scan_lists_regular_files_in_order_and_skips_links_locks_and_hidden(
    workspace, tmp_path
):
    submissions = workspace.raw_dir / "submissions"
    layout = {
        "会亭镇/2021年2月.xlsx": b"a",
        "会亭镇/2021年1月.xlsx": b"bb",
        "会亭镇/~$2021年2月.xlsx": b"lock",  # Excel's lock file beside an open workbook
        "会亭镇/.~lock.2021年2月.xlsx#": b"lock",  # LibreOffice's
        "会亭镇/old/2020年12月.xlsx": b"ccc",
        ".trash/deleted.xlsx": b"gone",  # a hidden folder
        "邮件附件/20210302/济阳(1).xlsx": b"dddd",
        "顶层.xlsx": b"eeeee",
    }
    for name, content in layout.items():
        (submissions / name).parent.mkdir(parents=True, exist_ok=True)
        (submissions / name).write_bytes(content)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.xlsx").write_bytes(b"not ours")
    os.symlink(outside / "secret.xlsx", submissions / "会亭镇" / "link.xlsx")
    os.symlink(outside, submissions / "linked_folder")

    found = inbox.scan(workspace.raw_dir)

    assert [f.source_file for f in found] == [
        "submissions/顶层.xlsx",
        "submissions/会亭镇/2021年1月.xlsx",
        "submissions/会亭镇/2021年2月.xlsx",
        "submissions/会亭镇/old/2020年12月.xlsx",
        "submissions/邮件附件/20210302/济阳(1).xlsx",
    ]
    for f in found:
        content = layout[f.source_file.removeprefix("submissions/")]
        assert f.path == workspace.raw_dir / f.source_file
        assert f.size_bytes == len(content)
        assert f.sha256 == hashlib.sha256(content).hexdigest()
        assert f.mtime == datetime.fromtimestamp(f.path.stat().st_mtime)
