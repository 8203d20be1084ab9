"""Fixtures of the import tests: today's date and a GBK roster already imported."""

import dataclasses
from datetime import date

import pytest
from django.utils import timezone

from gonghui.demo.people import WorkerFactory
from gonghui.demo.rosters import HEADINGS, roster_row
from gonghui.jobs.models import JobRun
from tests.imports.roster_factories import (
    ELSEWHERE,
    FULL_WIDTH,
    HERE,
    TITLE,
    UNIT,
    command_json,
    csv_bytes,
    wrong_check,
)
from tests.members.factories import enrol


@pytest.fixture
def today() -> date:
    return timezone.localdate()


# ---------------------------------------------------------------------------------------------------------------
# 1. The files people send


@pytest.fixture
def gbk_import(tree, system, today, tmp_path):
    """A GBK CSV with a title row above the header, imported with `manage.py import_roster --json`.

    Lines as the user sees them:
        1 title            2 header (+ an unknown column 紧急联系人)
        3 added            4 added (ID in full-width digits)     5 blank
        6 added            7 conflict (member of 木渎光电)         8 duplicate of line 3
        9 ragged: a cell beyond the header → error                10 blank but for commas
       11 added (ID ending in lower-case x)   12 wrong check digit → error   13 short row (5 cells) → added
    """
    factory = WorkerFactory(11, today)
    w = [factory.worker(UNIT) for _ in range(7)]
    x_worker = next(p for p in iter(lambda: factory.worker(UNIT), None) if p.doc_number.endswith("X"))
    elsewhere = w[3]
    enrol(system, tree[ELSEWHERE], name=elsewhere.name, number=elsewhere.doc_number, work_unit="木渎光电有限公司")
    header = [*HEADINGS, "紧急联系人"]

    def row(number, worker, **changes):
        return [*roster_row(number, dataclasses.replace(worker, **changes)), "王某"]

    lines = [
        [TITLE],
        header,
        row(1, w[0]),
        row(2, w[1], doc_number=w[1].doc_number.translate(FULL_WIDTH)),
        [],
        row(3, w[2]),
        row(4, elsewhere),
        row(5, w[0]),
        [*row(6, w[4]), "多出的一格"],
        [""] * len(header),
        row(7, x_worker, doc_number=x_worker.doc_number.lower()),
        row(8, w[5], doc_number=wrong_check(w[5].doc_number)),
        roster_row(9, w[6])[:5],
    ]
    content = csv_bytes(lines, encoding="gbk")
    path = tmp_path / "会员名册.csv"
    path.write_bytes(content)
    payload = command_json(str(path), "--org", HERE)
    return {
        "payload": payload,
        "job": JobRun.objects.get(id=payload["job"]),
        "lines": lines,
        "content": content,
        "added": {3: w[0], 4: w[1], 6: w[2], 11: x_worker, 13: w[6]},
        "workers": w,
        "elsewhere": elsewhere,
        "wrong_check": wrong_check(w[5].doc_number),
    }
