"""A province inbox from a prefecture's: copies of generated counties under new county names.

The generator writes ~65 files/s on two cores, so 119,000 files would take half an hour. Instead
``K`` counties are generated once and county ``c >= K`` is county ``c mod K`` with its name
replaced, in the folder and file names, in every XML part of each workbook (填报单位, names) and
in ``units.csv`` (the roster, aliases, targets). The copies are new submissions (their bytes and
sha256 differ) of new units, with the same shapes and row counts as their source. A clerk's
noise inside the county name (a space, a zero-width character) is left as written; such a file
then names its source county's unit, which the loader treats as any other resubmission (the
copy's zip comment names the new county, so its bytes differ from the source's in any case).

The copies' investors are other companies: every valid 统一社会信用代码 gets a new organisation
code (the same one for the same source code within a copy, so a county's own duplicate claims
stay), with its check characters recomputed. Otherwise each copy would claim its source's
projects and every project would be 拼凑挂靠 thirty times over (175,000 flags in 227,000
entries for 30 counties), which is a property of the copying, not of a province.
"""

from __future__ import annotations

import csv
import hashlib
import os
import random
import re
import zipfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from zhaoshang.generate.inbox import county_name
from zhaoshang.generate.uscc import is_valid_uscc, make_uscc

_USCC = re.compile(rb"(?<![0-9A-Z])[0-9A-Y]{2}\d{6}[0-9A-Y]{10}(?![0-9A-Z])")


def other_company(code: str, county: bytes) -> str:
    """``code`` with a new organisation code, fixed by (code, county); still a valid USCC."""
    seed = hashlib.sha256(code.encode() + b"|" + county).digest()
    return make_uscc(code[2:8], random.Random(seed), prefix=code[:2])  # same region and type


def _new_investors(data: bytes, county: bytes) -> bytes:
    def swap(match: re.Match[bytes]) -> bytes:
        code = match.group(0).decode("ascii")
        return (
            other_company(code, county).encode("ascii") if is_valid_uscc(code) else match.group(0)
        )

    return _USCC.sub(swap, data)


def _copy_workbook(src: Path, dst: Path, old: bytes, new: bytes) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith((".xml", ".rels")):
                data = _new_investors(data.replace(old, new), new)
            zout.writestr(info, data)
        zout.comment = new  # new bytes even where the name was not found: a new submission
    stat = src.stat()
    os.utime(dst, (stat.st_atime, stat.st_mtime))  # the loader reads mtime as arrival time


def _copy_county(args: tuple[Path, Path, int, int]) -> int:
    src_raw, dst_raw, source, target = args
    old, new = county_name(source), county_name(target)
    count = 0
    root = src_raw / "submissions" / old
    for path in sorted(root.rglob("*")):
        if path.is_file():
            rel = str(path.relative_to(src_raw / "submissions")).replace(old, new)
            _copy_workbook(path, dst_raw / "submissions" / rel, old.encode(), new.encode())
            count += 1
    return count


def _link_tree(src: Path, dst: Path) -> int:
    count = 0
    for path in src.rglob("*"):
        if path.is_file():
            target = dst / path.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, target)
            count += 1
    return count


def replicate(src_raw: Path, dst_raw: Path, sources: int, counties: int, workers: int = 2) -> int:
    """Write ``counties`` counties to ``dst_raw`` from the ``sources`` in ``src_raw``; file count."""
    files = 0
    for index in range(min(sources, counties)):  # the generated counties themselves: hard links
        name = county_name(index)
        files += _link_tree(src_raw / "submissions" / name, dst_raw / "submissions" / name)
    jobs = [(src_raw, dst_raw, c % sources, c) for c in range(sources, counties)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        files += sum(pool.map(_copy_county, jobs, chunksize=2))
    _write_units(src_raw, dst_raw, sources, counties)
    return files


def _write_units(src_raw: Path, dst_raw: Path, sources: int, counties: int) -> None:
    src_csv = src_raw / "reference" / "units.csv"
    with src_csv.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    by_county: dict[int, list[dict]] = {}
    names = {county_name(i): i for i in range(sources)}
    for row in rows:
        owner = next(i for name, i in names.items() if row["unit_name"].startswith(name))
        by_county.setdefault(owner, []).append(row)
    out = dst_raw / "reference" / "units.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for target in range(counties):
            source = target % sources
            old, new = county_name(source), county_name(target)
            for row in by_county.get(source, []):
                writer.writerow({k: (v or "").replace(old, new) for k, v in row.items()})
    for extra in (src_raw / "reference").iterdir():  # anything else the generator put there
        if extra.name != "units.csv" and extra.is_file():
            os.link(extra, dst_raw / "reference" / extra.name)
