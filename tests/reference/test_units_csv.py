"""The office's units.csv as hand edits leave it loads the same roster, in Python and in what
dbt reads (DuckDB read_csv over the normalised copy), with one clear error otherwise (issue 13)."""

from __future__ import annotations

import duckdb
import pytest

from zhaoshang.reference import ReferenceDataError, load_units, write_reference_copies

HEADER = "unit_name,unit_type,aliases,year,target_funds_wan,target_projects"
LINES = [
    "济阳镇,乡镇,济阳;夏邑县济阳镇,2021,1000,32",
    "骆集乡,乡镇,骆集,2021,2280,28",
    '"县发展和改革委员会",县直单位,"发改委;发展改革委",2021,1500,4',
]

VARIANTS = {
    "lf": (HEADER + "\n" + "\n".join(LINES) + "\n").encode(),
    "crlf": (HEADER + "\r\n" + "\r\n".join(LINES) + "\r\n").encode(),
    "crlf_with_lf_line_appended": (
        HEADER + "\r\n" + "\r\n".join(LINES[:2]) + "\r\n" + LINES[2] + "\n"
    ).encode(),
    "cr_cr_lf": (HEADER + "\r\r\n" + "\r\r\n".join(LINES) + "\r\r\n").encode(),
    "old_mac_cr": (HEADER + "\r" + "\r".join(LINES) + "\r").encode(),
    "bom_and_trailing_blank_lines": (
        "\ufeff" + HEADER + "\r\n" + "\r\n".join(LINES) + "\r\n\r\n,,,,,\r\n\r\n"
    ).encode(),
    "no_final_newline": (HEADER + "\n" + "\n".join(LINES)).encode(),
}


def _roster(units):
    return [(u.unit_name, u.unit_type, u.aliases, u.year, u.target_funds_wan) for u in units]


@pytest.fixture(scope="module")
def expected(tmp_path_factory):
    path = tmp_path_factory.mktemp("lf") / "units.csv"
    path.write_bytes(VARIANTS["lf"])
    return _roster(load_units(path))


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_line_ending_loads_the_same_roster(variant, expected, tmp_path):
    reference = tmp_path / "reference"
    reference.mkdir()
    (reference / "units.csv").write_bytes(VARIANTS[variant])
    assert _roster(load_units(reference / "units.csv")) == expected
    assert len(expected) == 3 and expected[2][2] == ("发改委", "发展改革委")
    copy = write_reference_copies(reference, tmp_path / "copy") / "units.csv"
    # What dbt's source reads: the same read_csv call on the copy, every value as text.
    with duckdb.connect() as con:
        rows = con.execute(
            "select unit_name, unit_type, aliases, year, target_funds_wan "
            "from read_csv(?, header = true, all_varchar = true)",
            [str(copy)],
        ).fetchall()
    assert [(n, t, tuple(a.split(";")), int(y), float(f)) for n, t, a, y, f in rows] == expected


def test_the_mixed_file_is_what_broke_duckdb_before(tmp_path):
    """Without the one reader, DuckDB's CSV sniffer refuses (or misreads) the hand-edited file."""
    path = tmp_path / "units.csv"
    path.write_bytes(VARIANTS["cr_cr_lf"])
    with duckdb.connect() as con:
        try:
            rows = con.execute(
                "select * from read_csv(?, header = true, all_varchar = true)", [str(path)]
            ).fetchall()
        except duckdb.Error:
            return
    assert len(rows) != 3 or any(None in r for r in rows)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("济阳镇,乡镇\n".encode(), ("缺少列", "lacks columns")),
        ((HEADER + "\n" + "济阳镇,乡镇,,二〇二一,1,1\n").encode(), ("第2行", "row 2")),
        (
            (HEADER + "\n" + "济阳镇,乡镇,,2021,1,1\n").encode("utf-8") + "骆集乡".encode("gbk"),
            ("第3行不是 UTF-8", "not UTF-8"),
        ),
        ((HEADER + "\n").encode(), ("没有任何单位", "lists no unit")),
    ],
)
def test_one_clear_bilingual_error(content, words, tmp_path):
    path = tmp_path / "units.csv"
    path.write_bytes(content)
    with pytest.raises(ReferenceDataError) as caught:
        load_units(path)
    message = str(caught.value)
    assert "units.csv" in message and all(w in message for w in words)
