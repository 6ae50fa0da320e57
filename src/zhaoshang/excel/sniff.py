"""Sniff before parsing: decide from bytes alone whether a file may reach a spreadsheet parser.

RELIABILITY §3 rule 2 and catalogue A/B. The format is decided by content, never by the file's
extension: OLE/CFB (legacy .xls, WPS .et, or an encrypted OOXML package), a zip holding an
OOXML workbook (.xlsx/.xlsm/.xltx, or .xlsb with binary parts) or an OpenDocument spreadsheet
(.ods), else a rejection naming what the file is. Checks run cheapest first and all of them before
calamine sees the file: magic bytes, the container's own directory (zip: entry count, declared
sizes, compression ratio, duplicate names, zip encryption; OLE: stream count and sizes), then one
read of every zip part (bounded by the declared sizes just checked) that rejects any DTD/entity
declaration and oversized shared-string tables, and collects each sheet's structure (sheetxml for
.xlsx, odsxml for .ods, xlsbrec for .xlsb): cells beyond the limits, hidden rows, merges calamine
does not report. Macros are never run: a macro part only adds a file warning (A9).
"""

from __future__ import annotations

import codecs
import io
import os
import posixpath
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from zhaoshang.errors import Problem, SubmissionRejected
from zhaoshang.excel.limits import Limits
from zhaoshang.excel.sheetxml import BadCellRef, SheetStructure, scan_sheet

MergeRanges = list[tuple[tuple[int, int], tuple[int, int]]]  # 0-based inclusive, as calamine

OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"

_DTD = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_UTF16_DTD = re.compile(r"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_WORKSHEET_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?worksheet[\s>]")
_UNIQUE_COUNT = re.compile(rb"""uniqueCount\s*=\s*["'](\d+)["']""")
_SHARED_ITEM = re.compile(rb"<(?:\w+:)?si[\s>/]")


@dataclass(frozen=True)
class SheetEntry:
    name: str
    state: str  # visible / hidden / veryHidden
    kind: str  # worksheet / chartsheet / dialogsheet
    part: str | None  # zip member name of the sheet XML


@dataclass(frozen=True)
class Package:
    """What the sniff learned about a workbook that passed every check.

    For .xlsx the sheets come from workbook.xml and ``structures`` is keyed by zip part; for the
    other formats ``sheets`` is empty (the reader takes calamine's sheet list) and ``structures``
    and ``merges`` are keyed by sheet name.
    """

    sheets: tuple[SheetEntry, ...]
    date1904: bool
    structures: dict[str, SheetStructure]  # worksheet part -> what calamine does not report
    data: bytes = field(repr=False, default=b"")  # the file as checked: what the parser must read
    format: str = "xlsx"  # xlsx (incl. .xlsm/.xltx) | xls | xlsb | ods
    # Merged ranges by sheet name where calamine reports none (.ods, .xlsb); None: ask calamine.
    merges: dict[str, MergeRanges] | None = None
    warnings: tuple[tuple[str, str], ...] = ()  # (code, detail) file warnings, e.g. W_MACRO

    @property
    def sheets_from_parser(self) -> bool:
        return self.format != "xlsx"


def reject(code: str, source_file: str | None, detail: object = "") -> SubmissionRejected:
    return SubmissionRejected(Problem(code=code, source_file=source_file, detail=detail))


def _mb(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB"


# --------------------------------------------------------------------------------------------
# entry point


def sniff(path: Path, limits: Limits, source_file: str | None) -> Package:
    """Raise SubmissionRejected unless ``path`` is a plain .xlsx within the limits.

    The file is read once (at most ``max_file_bytes``); the parser gets the same bytes, so a
    file changed on disk in between cannot slip past the checks.
    """
    with path.open("rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size > limits.max_file_bytes:
            raise reject("E_TOO_LARGE", source_file, f"{_mb(size)} > {_mb(limits.max_file_bytes)}")
        data = f.read(limits.max_file_bytes + 1)
    if not data:
        raise reject("E_EMPTY", source_file)
    if len(data) > limits.max_file_bytes:  # grew after fstat
        raise reject("E_TOO_LARGE", source_file, f"> {_mb(limits.max_file_bytes)}")
    head = data[:4096]
    if head.startswith(OLE_MAGIC):
        return _check_ole(data, limits, source_file)
    if head.startswith(EMPTY_ZIP_MAGIC):
        raise reject("E_ZIP_CORRUPT", source_file)
    if not head.startswith(ZIP_MAGIC):
        raise _non_zip_problem(head, source_file)
    return _check_package(data, limits, source_file)


# Stream names (lower case) that hold a BIFF workbook: BIFF8 (Excel 97-2003, WPS .et) and BIFF5.
_BIFF_STREAMS = ("workbook", "book")


def _check_ole(data: bytes, limits: Limits, source_file: str | None) -> Package:
    """An OLE/CFB container: an encrypted OOXML package, a legacy .xls/.et, or something else.

    The compound file's directory is read (olefile, pure Python, no parser of cell content)
    and bounded before calamine sees the BIFF stream: stream count and declared sizes.
    """
    import olefile

    try:
        ole = olefile.OleFileIO(data)
    except Exception:
        raise reject("E_LEGACY_XLS", source_file, "文件头损坏 / damaged header") from None
    with ole:
        streams = ole.listdir(streams=True, storages=False)
        if len(streams) > limits.max_ole_streams:
            raise reject(
                "E_TOO_MANY_PARTS", source_file, f"{len(streams)} > {limits.max_ole_streams}"
            )
        names = {"/".join(parts).lower(): "/".join(parts) for parts in streams}
        if "encryptedpackage" in names or "encryptioninfo" in names:
            raise reject("E_ENCRYPTED", source_file)
        total = sum(ole.get_size(name) for name in names.values())
        if total > limits.max_uncompressed_bytes:
            raise reject(
                "E_TOO_LARGE", source_file, f"{_mb(total)} > {_mb(limits.max_uncompressed_bytes)}"
            )
        stream = next((names[n] for n in _BIFF_STREAMS if n in names), None)
        if stream is None:
            kind = "Word (.doc)" if "worddocument" in names else "OLE"
            raise reject("E_UNSUPPORTED_FORMAT", source_file, kind)
        biff = ole.openstream(stream).read()
    if _xls_encrypted(data):
        raise reject("E_ENCRYPTED", source_file)
    from zhaoshang.excel.biffrec import scan_workbook_stream

    try:
        structures = scan_workbook_stream(biff, limits.max_rows)
    except (struct.error, IndexError):
        structures = {}  # calamine's own read decides (E_LEGACY_XLS)
    return Package((), False, structures, data, format="xls")


def _xls_encrypted(data: bytes) -> bool:
    """A FILEPASS record (password to open) in the BIFF stream, as msoffcrypto reads it."""
    import msoffcrypto

    try:
        return bool(msoffcrypto.OfficeFile(io.BytesIO(data)).is_encrypted())
    except Exception:
        return False  # unreadable BIFF: calamine's own error decides (E_LEGACY_XLS)


_OTHER_BINARY = {b"%PDF": "PDF", b"Rar!": "RAR", b"7z\xbc\xaf": "7z", b"\x1f\x8b": "gzip"}


def _non_zip_problem(head: bytes, source_file: str | None) -> SubmissionRejected:
    for magic, name in _OTHER_BINARY.items():
        if head.startswith(magic):
            return reject("E_UNSUPPORTED_FORMAT", source_file, name)
    if _looks_like_text(head):
        return reject("E_NOT_XLSX_TEXT", source_file)
    return reject("E_UNSUPPORTED_FORMAT", source_file, "unknown")


def _looks_like_text(head: bytes) -> bool:
    """CSV (UTF-8, GBK, UTF-16 'Unicode text'), HTML or XML: decodable, no NUL bytes."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    if b"\x00" in head:
        return False
    for encoding in ("utf-8", "gb18030"):
        try:
            head.decode(encoding)
            return True
        except UnicodeDecodeError as error:
            if error.start >= len(head) - 4:  # a multi-byte character cut by the 4 KB read
                return True
    return False


# --------------------------------------------------------------------------------------------
# zip container


def _declared_entry_count(data: bytes) -> int | None:
    """Entry count from the end-of-central-directory record, read before zipfile lists entries."""
    tail = data[-65_557:]
    pos = tail.rfind(EMPTY_ZIP_MAGIC)
    if pos < 0 or pos + 22 > len(tail):
        return None
    total = struct.unpack("<H", tail[pos + 10 : pos + 12])[0]
    return None if total == 0xFFFF else total  # zip64: zipfile reads the real count


def _check_package(data: bytes, limits: Limits, source_file: str | None) -> Package:
    declared = _declared_entry_count(data)
    if declared is not None and declared > limits.max_zip_entries:
        raise reject("E_TOO_MANY_PARTS", source_file, f"{declared} > {limits.max_zip_entries}")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        raise reject("E_ZIP_CORRUPT", source_file) from None
    with archive:
        infos = archive.infolist()
        _check_directory(infos, limits, source_file)
        parts = _Parts(data, infos, source_file)
        kind, warnings = _check_part_kinds(parts, source_file)
        scan = _scan_xml_parts(parts, infos, limits, source_file)
        if kind == "ods":
            return _ods_package(parts, limits, source_file, data)
        if kind == "xlsb":
            return _xlsb_package(parts, infos, limits, source_file, data, warnings)
        package = _read_workbook(parts, scan, limits, source_file, data)
        return package if not warnings else _with_warnings(package, warnings)


def _with_warnings(package: Package, warnings: tuple[tuple[str, str], ...]) -> Package:
    from dataclasses import replace

    return replace(package, warnings=package.warnings + warnings)


class _Parts:
    """Reads package members from the in-memory file, keeping the small ones needed twice.

    zipfile has parsed (and _check_directory has vetted) the central directory; members are
    inflated here straight from the file's bytes, with at most the declared size produced and
    the CRC checked, which costs a fraction of zipfile's per-member machinery.
    """

    KEEP = ("[content_types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels")

    def __init__(self, data: bytes, infos: list[zipfile.ZipInfo], source_file: str | None):
        self.data = data
        self.infos = {info.filename: info for info in infos}
        self.by_lower = {name.lower(): name for name in self.infos}
        self.kept: dict[str, bytes] = {}
        self.source_file = source_file

    def read(self, name: str) -> bytes:
        if name in self.kept:
            return self.kept[name]
        info = self.infos.get(name)
        if info is None:
            return b""
        data = self._inflate(info)
        if name.lower() in self.KEEP:
            self.kept[name] = data
        return data

    def _inflate(self, info: zipfile.ZipInfo) -> bytes:
        offset = info.header_offset
        header = self.data[offset : offset + _LOCAL_HEADER.size]
        if len(header) < _LOCAL_HEADER.size or header[:4] != ZIP_MAGIC:
            raise self._corrupt()
        name_length, extra_length = _LOCAL_HEADER.unpack(header)[-2:]
        start = offset + _LOCAL_HEADER.size + name_length + extra_length
        compressed = self.data[start : start + info.compress_size]
        if len(compressed) != info.compress_size:
            raise self._corrupt()
        if info.compress_type == zipfile.ZIP_STORED:
            out = compressed
        else:
            try:
                # max_length: a lying header cannot make this produce more than declared (+1 to see it).
                out = zlib.decompressobj(-zlib.MAX_WBITS).decompress(compressed, info.file_size + 1)
            except zlib.error:
                raise self._corrupt() from None
        if len(out) != info.file_size or zlib.crc32(out) != info.CRC:
            raise self._corrupt()
        return out

    def _corrupt(self) -> Exception:
        """Built only when raised: a Problem costs more than inflating a small part."""
        return reject("E_ZIP_CORRUPT", self.source_file)

    def member(self, wanted: str) -> str | None:
        return self.by_lower.get(wanted.lower())


_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # signature ... file name length, extra field length


def _check_directory(infos: list[zipfile.ZipInfo], limits: Limits, source_file: str | None) -> None:
    if len(infos) > limits.max_zip_entries:
        raise reject("E_TOO_MANY_PARTS", source_file, f"{len(infos)} > {limits.max_zip_entries}")
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename.lower()
        if name in seen:  # two readers may pick different copies of a duplicated part
            raise reject("E_ZIP_CORRUPT", source_file)
        seen.add(name)
        if info.flag_bits & 0x1:
            raise reject("E_ENCRYPTED", source_file)
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise reject("E_UNSUPPORTED_FORMAT", source_file, f"zip method {info.compress_type}")
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size >= limits.ratio_check_min_bytes and ratio > limits.max_compression_ratio:
            raise reject("E_TOO_LARGE", source_file, f"{info.filename}: {ratio:.0f}:1")
    if total > limits.max_uncompressed_bytes:
        raise reject(
            "E_TOO_LARGE", source_file, f"{_mb(total)} > {_mb(limits.max_uncompressed_bytes)}"
        )


_ODS_MIMETYPES = (
    b"application/vnd.oasis.opendocument.spreadsheet",
    b"application/vnd.oasis.opendocument.spreadsheet-template",
)


def _check_part_kinds(
    parts: _Parts, source_file: str | None
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """(xlsx | xlsb | ods, file warnings) from the package's parts, or a rejection."""
    lower = parts.by_lower
    if "mimetype" in lower:
        mimetype = parts.read(lower["mimetype"]).strip()
        if mimetype not in _ODS_MIMETYPES or "content.xml" not in lower:
            kind = mimetype.decode("ascii", "replace")[:60] or "OpenDocument"
            raise reject("E_UNSUPPORTED_FORMAT", source_file, safe_detail(kind))
        return "ods", ()
    if "[content_types].xml" not in lower:
        raise reject("E_UNSUPPORTED_FORMAT", source_file, "zip")
    content_types = parts.read(lower["[content_types].xml"])
    if not any(n.startswith("xl/") for n in lower):
        kind = "Word (.docx)" if any(n.startswith("word/") for n in lower) else "OOXML"
        raise reject("E_UNSUPPORTED_FORMAT", source_file, kind)
    warnings: tuple[tuple[str, str], ...] = ()
    macro_parts = sorted(n for n in lower if n.endswith("vbaproject.bin") or "macrosheets/" in n)
    # Every .xlsb's main part is typed "sheet.binary.macroEnabled.main", macros or not.
    declared = re.sub(rb"sheet\.binary\.macroEnabled\.main", b"", content_types, flags=re.I)
    if macro_parts or re.search(rb"macroEnabled|macrosheet", declared, re.IGNORECASE):
        # Values only: calamine never runs VBA, and the original is never forwarded (A9).
        warnings = (("W_MACRO", lower[macro_parts[0]] if macro_parts else "macroEnabled"),)
    if "xl/workbook.bin" in lower:
        return "xlsb", warnings
    if b"sheet.binary" in content_types:  # binary parts without xl/workbook.bin: calamine cannot
        raise reject("E_UNSUPPORTED_FORMAT", source_file, ".xlsb")
    return "xlsx", warnings


def safe_detail(text: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def _ods_package(parts: _Parts, limits: Limits, source_file: str | None, data: bytes) -> Package:
    from zhaoshang.excel.odsxml import OdsTooLarge, scan_content

    try:
        sheets = scan_content(
            parts.read(parts.by_lower["content.xml"]), limits.max_rows, limits.max_columns
        )
    except OdsTooLarge as too_large:
        raise reject("E_TOO_LARGE", source_file, too_large.detail) from None
    except ElementTree.ParseError:
        raise reject("E_ZIP_CORRUPT", source_file) from None
    if len(sheets) > limits.max_sheets:
        raise reject("E_TOO_MANY_PARTS", source_file, f"{len(sheets)} > {limits.max_sheets}")
    return Package(
        (),
        False,
        {name: s.structure for name, s in sheets.items()},
        data,
        format="ods",
        merges={name: s.merges for name, s in sheets.items()},
    )


def _xlsb_package(
    parts: _Parts,
    infos: list[zipfile.ZipInfo],
    limits: Limits,
    source_file: str | None,
    data: bytes,
    warnings: tuple[tuple[str, str], ...],
) -> Package:
    from zhaoshang.excel.xlsbrec import XlsbProblem, scan_xlsb

    try:
        scanned = scan_xlsb(parts.read, [i.filename for i in infos], limits)
    except XlsbProblem as problem:
        raise reject(problem.code, source_file, problem.detail) from None
    return Package(
        (),
        scanned.date1904,
        scanned.structures,
        data,
        format="xlsb",
        merges=scanned.merges,
        warnings=warnings,
    )


# --------------------------------------------------------------------------------------------
# XML parts


@dataclass
class _ScanResult:
    structures: dict[str, SheetStructure] = field(default_factory=dict)  # worksheet part -> facts


def _scan_xml_parts(
    parts: _Parts, infos: list[zipfile.ZipInfo], limits: Limits, source_file: str | None
) -> _ScanResult:
    """One read of every part: DTD/entities anywhere, shared strings, worksheet facts.

    Every part is searched, whatever its name: a worksheet may be stored as 'image1.png' and
    still be what the workbook's relationships point the parser at.

    Parts are read whole, one at a time: zipfile stops at each entry's declared size (and fails
    the CRC beyond it), and the declared sizes were capped above, so memory stays bounded.
    """
    result = _ScanResult()
    for info in infos:
        if info.is_dir():
            continue
        data = parts.read(info.filename)
        if _has_dtd(data):
            raise reject("E_XML_ENTITY", source_file)
        name = info.filename.lower()
        if name.endswith("sharedstrings.xml"):
            _check_shared_strings(data, limits, source_file)
        elif _WORKSHEET_ROOT.search(data, 0, 4096):
            try:
                result.structures[info.filename] = scan_sheet(
                    data, limits.max_rows, limits.max_columns
                )
            except BadCellRef as bad:
                raise reject("E_BAD_CELL_REF", source_file, bad.ref) from None
    return result


def _has_dtd(data: bytes) -> bool:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or data[:4] in (
        b"<\x00?\x00",
        b"\x00<\x00?",
    ):
        # A UTF-16 part would hide '<!DOCTYPE' from a byte search.
        return _UTF16_DTD.search(data.decode("utf-16", "replace")) is not None
    return b"<!" in data and _DTD.search(data) is not None


def _check_shared_strings(data: bytes, limits: Limits, source_file: str | None) -> None:
    declared = _UNIQUE_COUNT.search(data, 0, 4096)
    count = int(declared.group(1)) if declared else 0
    if count <= limits.max_shared_strings:
        count = max(count, len(_SHARED_ITEM.findall(data)))  # a lying uniqueCount still counts
    if count > limits.max_shared_strings:
        raise reject("E_TOO_MANY_STRINGS", source_file, f"{count} > {limits.max_shared_strings}")


# --------------------------------------------------------------------------------------------
# workbook.xml


def _read_workbook(
    parts: _Parts, scan: _ScanResult, limits: Limits, source_file: str | None, data: bytes
) -> Package:
    # calamine reads xl/workbook.xml whatever _rels/.rels says: check the part it will read.
    workbook_part = parts.member("xl/workbook.xml")
    if workbook_part is None:
        raise reject("E_UNSUPPORTED_FORMAT", source_file, "OOXML")
    root = _parse_xml(parts.read(workbook_part), source_file)
    targets = _relationships(parts, "xl/_rels/workbook.xml.rels", "xl", source_file)
    sheet_elements = root.findall(f"{{{_MAIN_NS}}}sheets/{{{_MAIN_NS}}}sheet")
    if len(sheet_elements) > limits.max_sheets:
        raise reject(
            "E_TOO_MANY_PARTS", source_file, f"{len(sheet_elements)} > {limits.max_sheets}"
        )
    sheets = []
    for element in sheet_elements:
        target, kind = targets.get(element.get(f"{{{_REL_NS}}}id", ""), (None, "worksheet"))
        sheets.append(
            SheetEntry(element.get("name", ""), element.get("state", "visible"), kind, target)
        )
    if not any(s.kind == "worksheet" and s.part for s in sheets):
        raise reject("E_NO_DATA_SHEET", source_file, "0")
    properties = root.find(f"{{{_MAIN_NS}}}workbookPr")
    date1904 = properties is not None and properties.get("date1904", "false").lower() in (
        "1",
        "true",
    )
    return Package(tuple(sheets), date1904, scan.structures, data)


def _parse_xml(data: bytes, source_file: str | None) -> ElementTree.Element:
    """Parse a small package part (workbook.xml, its rels).

    The C ElementTree parser is safe here: _scan_xml_parts has already rejected any
    <!DOCTYPE / <!ENTITY in every part (UTF-8 and UTF-16), and without a DTD expat can neither
    define nor fetch entities. defusedxml's pure-Python wrapper cost as much as the rest of the
    sniff.
    """
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError:
        raise reject("E_ZIP_CORRUPT", source_file) from None


def _relationships(
    parts: _Parts, rels_part: str, base: str, source_file: str | None
) -> dict[str, tuple[str | None, str]]:
    """rId -> (zip member name or None, relationship kind: worksheet / chartsheet / ...)."""
    member = parts.member(rels_part)
    if member is None:
        return {}
    root = _parse_xml(parts.read(member), source_file)
    out = {}
    for rel in root.findall(f"{{{_PKG_REL_NS}}}Relationship"):
        target = rel.get("Target", "")
        if rel.get("TargetMode") == "External":
            path = None
        elif target.startswith("/"):
            path = target.lstrip("/")
        else:
            path = posixpath.normpath(posixpath.join(base, target))
        out[rel.get("Id", "")] = (
            parts.member(path) if path else None,
            rel.get("Type", "").rsplit("/", 1)[-1],
        )
    return out
