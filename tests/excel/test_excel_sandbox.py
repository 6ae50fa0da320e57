"""The sandbox: same result as in process, limits kill only the worker, replies are allow-listed."""

from __future__ import annotations

import os
import pickle

import pytest
from excel_helpers import SOURCE, read
from workbook_builder import Form, project_row, raw_xlsx, write_form

from zhaoshang.errors import SubmissionRejected
from zhaoshang.excel import Limits, read_submissions
from zhaoshang.excel.sandbox import SandboxWorker, _load_reply


@pytest.fixture
def worker():
    w = SandboxWorker()
    yield w
    w.close()


def test_sandboxed_result_equals_in_process(xlsx):
    path = xlsx()
    write_form(
        path,
        Form(rows=[project_row(1), project_row(2, 产业类别="未知"), project_row(3)]),
        hidden_rows=[4],
    )
    assert read(path, sandbox=True) == read(path)


def test_rejection_crosses_the_process_boundary(xlsx):
    path = xlsx()
    path.write_bytes(b"")
    with pytest.raises(SubmissionRejected) as caught:
        read(path, sandbox=True)
    assert caught.value.problem.code == "E_EMPTY" and caught.value.problem.source_file == SOURCE


def test_timeout_kills_the_worker_and_the_next_file_loads(xlsx, worker):
    path = xlsx()
    write_form(path)
    with pytest.raises(SubmissionRejected) as caught:
        worker.parse(path, SOURCE, Limits(parse_timeout_s=0.001))
    assert caught.value.problem.code == "E_RESOURCE_LIMIT"
    assert len(worker.parse(path, SOURCE, Limits()).rows) == 3


def test_memory_limit_kills_the_worker_not_the_parent(xlsx, worker):
    # Legal references, within the row/column limits, but calamine builds a dense
    # 100,000 x 200 grid (20 M cells) for them: far more than 400 MB.
    path = raw_xlsx(
        xlsx(),
        '<row r="1"><c r="A1"><v>1</v></c></row><row r="100000"><c r="GR100000"><v>1</v></c></row>',
    )
    with pytest.raises(SubmissionRejected) as caught:
        worker.parse(path, SOURCE, Limits(address_space_bytes=400 * 2**20))
    assert caught.value.problem.code == "E_RESOURCE_LIMIT"
    good = xlsx()
    write_form(good)
    assert len(worker.parse(good, SOURCE, Limits()).rows) == 3


def test_a_worker_serves_many_files_and_is_recycled_by_count_or_memory(xlsx, worker):
    path = xlsx()
    write_form(path)
    roomy = Limits(max_tasks_per_worker=3)
    pids = []
    for _ in range(4):
        worker.parse(path, SOURCE, roomy)
        pids.append(worker.pid(roomy))
    assert pids[0] == pids[1] and pids[1] != pids[2]  # a new process after three files
    # a worker whose resident memory is past the bound is replaced at the next look (one look
    # every _RSS_CHECK_EVERY files, the first before its first file)
    worker.close()
    tight = Limits(recycle_rss_bytes=1024)
    first = worker.pid(tight)
    assert worker.pid(tight) != first
    assert worker.parse(path, SOURCE, Limits()).rows


def test_reply_unpickling_is_allow_listed():
    with pytest.raises(pickle.UnpicklingError):
        _load_reply(pickle.dumps(("ok", os.system)))
    with pytest.raises(pickle.UnpicklingError):
        _load_reply(pickle.dumps(["not", "a", "reply"]))


def test_batch_in_parallel_workers(xlsx):
    paths = []
    for k in range(6):
        path = xlsx()
        write_form(path, Form(rows=[project_row(i) for i in range(1, k + 2)]))
        paths.append(path)
    bad = xlsx()
    bad.write_bytes(b"a,b\n1,2\n")
    paths.insert(3, bad)
    results = list(read_submissions([(p, None) for p in paths], workers=2))
    assert [p for p, _ in results] == paths
    assert (
        isinstance(results[3][1], SubmissionRejected)
        and results[3][1].problem.code == "E_NOT_XLSX_TEXT"
    )
    assert [len(r.rows) for p, r in results if p != bad] == [1, 2, 3, 4, 5, 6]


def test_wire_round_trip(xlsx):
    from datetime import date
    from decimal import Decimal

    from zhaoshang.excel import wire
    from zhaoshang.excel.model import ParsedRow

    path = xlsx()
    rows = [
        project_row(1, total="0.12亿"),
        project_row(2, 签约时间="3月5日"),
        project_row(3, total="5000000元"),
    ]
    write_form(
        path, Form(rows=rows, meta=[["填报单位：济阳镇 报告期：2021年3月 填报日期：2021年4月2日"]])
    )
    parsed = read(path)
    assert wire.decode(wire.encode(parsed)) == parsed
    assert parsed.report_date == date(2021, 4, 2)
    # Rows with different keys (never produced by the reader) still round-trip.
    parsed.rows.append(
        ParsedRow(99, {"project_name": "x", "total_investment_wan": Decimal("1.50")})
    )
    again = wire.decode(wire.encode(parsed))
    assert again == parsed and str(again.rows[-1].values["total_investment_wan"]) == "1.50"
