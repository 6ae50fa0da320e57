"""The same generated reports in every format a clerk can send, written by real writers.

LibreOffice (headless, Debian's libreoffice-calc) converts .xlsx to .xls (BIFF8), .ods, .xlsm
and .xltx; it reads .xlsb but cannot write it, so .xlsb comes from tests/excel/xlsb_writer.py.
Conversions are slow (~0.2 s a file), so each format is converted once per test session, all
files in one soffice invocation, and cached here.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FILTERS = {
    "xls": "xls:MS Excel 97",
    "ods": "ods:calc8",
    "xlsm": "xlsm:Calc MS Excel 2007 VBA XML",
    "xltx": "xltx:Calc MS Excel 2007 XML Template",
}
_SESSION = Path(tempfile.mkdtemp(prefix="zhaoshang-formats-"))


def soffice() -> str:
    """LibreOffice, the real writer of the other formats; `make system-deps` installs it."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        raise RuntimeError("LibreOffice is missing: run `make system-deps` (as root)")
    return found


def convert(sources: list[Path], fmt: str) -> dict[Path, Path]:
    """source .xlsx -> converted file (same stem, new suffix, in a cache folder)."""
    return dict(zip(sources, _convert(tuple(sources), fmt), strict=True))


@functools.cache
def _convert(sources: tuple[Path, ...], fmt: str) -> tuple[Path, ...]:
    out = Path(tempfile.mkdtemp(prefix=f"{fmt}-", dir=_SESSION))
    staged = out / "in"
    staged.mkdir()
    names = []
    for k, source in enumerate(sources):  # unique ASCII names: inbox names repeat across folders
        names.append(f"f{k:04d}")
        shutil.copyfile(source, staged / f"{names[-1]}.xlsx")
    if fmt == "xlsb":
        sys.path.insert(0, str(Path(__file__).parent / "excel"))
        from xlsb_writer import xlsx_to_xlsb

        return tuple(xlsx_to_xlsb(staged / f"{n}.xlsx", out / f"{n}.xlsb") for n in names)
    profile = _SESSION / "lo_profile"
    subprocess.run(
        [
            soffice(),
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            FILTERS[fmt],
            "--outdir",
            str(out),
            *[str(staged / f"{n}.xlsx") for n in names],
        ],
        check=True,
        capture_output=True,
        timeout=300,
        env=os.environ | {"HOME": str(_SESSION)},
    )
    results = tuple(out / f"{n}.{fmt}" for n in names)
    missing = [r.name for r in results if not r.exists()]
    assert not missing, f"LibreOffice did not write {missing}"
    return results


def replace_in_inbox(raw: Path, by_format: dict[str, list[str]]) -> dict[str, str]:
    """Swap inbox files (paths relative to ``raw``) for their conversion; returns old -> new path."""
    renamed = {}
    for fmt, rel_paths in by_format.items():
        sources = [raw / p for p in rel_paths]
        for source, converted in convert(sources, fmt).items():
            target = source.with_suffix(f".{fmt}")
            shutil.copyfile(converted, target)
            os.utime(target, (source.stat().st_atime, source.stat().st_mtime))
            source.unlink()
            renamed[source.relative_to(raw).as_posix()] = target.relative_to(raw).as_posix()
    return renamed
