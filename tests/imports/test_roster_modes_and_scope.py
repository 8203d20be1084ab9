"""Roster import: the three modes (add, upsert, dry run), reimports, and the scoping of who imports where."""

import polars as pl
import pytest
from django.core.management.base import CommandError

from gonghui.common.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from gonghui.common.sheets import SheetUnreadable, read_table
from gonghui.demo.rosters import HEADINGS, roster_csv, roster_row
from gonghui.imports.roster import merge as roster_merge
from gonghui.imports.roster import roster_import_cancel, roster_import_request, roster_import_run
from gonghui.imports.roster.validate import ROSTER_COLUMNS
from gonghui.jobs.models import JobRun, JobStatus
from gonghui.members.models import Education, Membership, Person
from gonghui.members.people import document_number_of, phone_of
from gonghui.members.services import membership_leave
from tests.imports.roster_factories import (
    ELSEWHERE,
    HERE,
    assert_no_person_twice,
    command_json,
    members_of,
    outcomes,
    person_by_number,
    reasons,
    registry_counts,
    run_import,
    with_id,
    workers,
    wrong_check,
)
from tests.members.factories import enrol

# ---------------------------------------------------------------------------------------------------------------
# 2. Modes


@pytest.fixture
def mixed_registry(tree, system, today):
    """Ten workers and the registry facts the modes are tested against:
    w0 already a member here, w1 a member of another union, w2 left this union (returning), w3 registered here
    under another name; w4..w9 new."""
    w = workers(21, today, 10)
    enrol(system, tree[HERE], name=w[0].name, number=w[0].doc_number)
    enrol(system, tree[ELSEWHERE], name=w[1].name, number=w[1].doc_number)
    left = enrol(system, tree[HERE], name=w[2].name, number=w[2].doc_number)
    membership_leave(actor=system, membership=left, reason="离职")
    enrol(system, tree["SZ-GS-T01-123"], name="改名前", number=w[3].doc_number)
    rows = [roster_row(i + 1, x) for i, x in enumerate(w)]
    rows.append(roster_row(11, w[5]))  # line 12: duplicate of line 7
    rows.append(roster_row(12, with_id(w[6], wrong_check(w[6].doc_number))))  # line 13: error
    return w, roster_csv(rows)


def _snapshot():
    return (
        sorted(Person.objects.values_list("id", "name", "education", "phone_index", "quality_flags", "updated_at")),
        sorted(Membership.objects.values_list("id", "person_id", "org_id", "status", "card_number", "updated_at")),
    )


def test_dry_run_writes_nothing_and_predicts_the_real_run(mixed_registry, tree, system):
    w, content = mixed_registry
    before = _snapshot()
    preview = run_import(system, tree[HERE], "roster.csv", content, mode="dry-run")
    assert _snapshot() == before
    assert preview.result["changed"] is False
    assert preview.result["message"].startswith("预览结果（未写入）")

    expected = {2: "unchanged", 3: "conflict", 5: "error", 12: "duplicate", 13: "error"}
    assert outcomes(preview) == expected
    assert preview.result["summary"] == {
        "rows": 12, "added": 7, "updated": 0, "unchanged": 1, "conflict": 1, "duplicate": 1, "error": 2,
    }  # fmt: skip

    real = run_import(system, tree[HERE], "roster.csv", content, mode="add")
    assert outcomes(real) == outcomes(preview)
    assert real.result["summary"] == preview.result["summary"]
    for line in (3, 5, 12, 13):
        assert reasons(real)[line] == reasons(preview)[line]
    # w3 is registered in another union under another name, w1 is another union's member: neither the name on
    # record nor the union is told to this union.
    assert reasons(real)[5] == "姓名与证件号码不符，请核对证件原件后重新填写"
    masked = person_by_number(w[1].doc_number).doc_masked
    assert reasons(real)[3] == f"该人员已是其他工会会员（证件号码 {masked}），如已调入本单位，请发起会员接转"
    # The returning member (w2) has a new membership here next to the ended one.
    returning = person_by_number(w[2].doc_number)
    assert sorted(returning.memberships.values_list("status", flat=True)) == ["active", "left"]
    assert set(members_of(tree[HERE])) == {x.doc_number for x in (w[0], w[2], w[4], w[5], w[6], w[7], w[8], w[9])}
    assert "第7、12行" in reasons(real)[12]
    assert_no_person_twice()


def test_only_the_union_s_own_member_is_told_the_name_on_record(tree, system, today):
    w = workers(23, today, 2)
    enrol(system, tree[HERE], name="旧名", number=w[0].doc_number)
    enrol(system, tree[ELSEWHERE], name="他名", number=w[1].doc_number)
    job = run_import(system, tree[HERE], "roster.csv", roster_csv([roster_row(1, w[0]), roster_row(2, w[1])]))
    assert reasons(job) == {
        2: "姓名与该证件号码已登记的姓名（旧名）不一致，请核对；如确需更正姓名，请在会员详情页办理",
        3: "姓名与证件号码不符，请核对证件原件后重新填写",
    }


def test_people_registered_after_the_lookup_are_refused_by_the_database(tree, system, today, monkeypatch):
    """Between a chunk's lookup and its insert another transaction may register a person or give a known person a
    membership. The database's unique keys decide: the COPY straight into the tables (PostgreSQL) is refused, the
    savepoint rolls back, and the staged INSERT ... ON CONFLICT path skips exactly those rows."""
    w = workers(23, today, 6)
    raced_person = enrol(system, tree[ELSEWHERE], name=w[1].name, number=w[1].doc_number)
    left = enrol(system, tree[HERE], name=w[3].name, number=w[3].doc_number)
    membership_leave(actor=system, membership=left, reason="离职")
    enrol(system, tree[ELSEWHERE], name=w[3].name, number=w[3].doc_number)  # rejoined elsewhere meanwhile
    original_lookup = roster_merge._lookup

    def stale_lookup(ok):  # what the lookup saw a moment before those registrations
        found = original_lookup(ok)
        found = found.filter(pl.col("person_id") != str(raced_person.person_id))
        return found.with_columns(pl.lit(None, pl.String).alias(c) for c in ("holding_id", "_holding_org",
                                                                              "_holding_org_name"))  # fmt: skip

    monkeypatch.setattr(roster_merge, "_lookup", stale_lookup)
    people_before, members_before = registry_counts()
    job = run_import(system, tree[HERE], "roster.csv", roster_csv([roster_row(i + 1, x) for i, x in enumerate(w)]))
    assert job.result["summary"] == {
        "rows": 6, "added": 4, "updated": 0, "unchanged": 0, "conflict": 2, "duplicate": 0, "error": 0,
    }  # fmt: skip
    assert outcomes(job) == {3: "conflict", 5: "conflict"}
    assert reasons(job)[3] == "该人员刚由其他操作登记，请稍后重新导入本行"
    assert reasons(job)[5] == "该人员刚成为其他工会的会员，请核对后发起会员接转"
    assert registry_counts() == (people_before + 4, members_before + 4)
    assert set(members_of(tree[HERE])) == {x.doc_number for x in (w[0], w[2], w[4], w[5])}
    assert person_by_number(w[1].doc_number).memberships.get().org_id == tree[ELSEWHERE].id
    assert_no_person_twice()


def test_add_then_upsert_then_reimport(tree, system, today):
    w = workers(22, today, 8)
    rows = [roster_row(i + 1, x) for i, x in enumerate(w)]
    first = roster_csv(rows)
    job = run_import(system, tree[HERE], "roster.csv", first)
    assert job.result["summary"]["added"] == 8 and outcomes(job) == {}
    counts = registry_counts()
    assert counts == (8, 8)

    # A second version of the file: w2's 学历 changed, w5's mobile changed.
    new_education = next(e for e in Education if e.value != w[2].education)
    new_phone = "199" + w[5].phone[3:]
    changed = [list(r) for r in rows]
    changed[2][HEADINGS.index("学历")] = new_education.label
    changed[5][HEADINGS.index("手机号码")] = new_phone
    second = roster_csv(changed)
    stamp = {p.id: p.updated_at for p in Person.objects.all()}

    add = run_import(system, tree[HERE], "roster.csv", second, mode="add")
    assert add.result["summary"] == {
        "rows": 8, "added": 0, "updated": 0, "unchanged": 8, "conflict": 0, "duplicate": 0, "error": 0,
    }  # fmt: skip
    assert set(reasons(add).values()) == {"已是本会会员（仅新增模式不更新资料）"}
    assert person_by_number(w[2].doc_number).education == w[2].education  # add mode does not update

    upsert = run_import(system, tree[HERE], "roster.csv", second, mode="upsert")
    assert upsert.result["summary"] == {
        "rows": 8, "added": 0, "updated": 2, "unchanged": 6, "conflict": 0, "duplicate": 0, "error": 0,
    }  # fmt: skip
    assert outcomes(upsert) == {line: ("updated" if line in (4, 7) else "unchanged") for line in range(2, 10)}
    assert person_by_number(w[2].doc_number).education == new_education.value
    assert phone_of(person_by_number(w[5].doc_number)) == new_phone
    for person in Person.objects.all():  # equal rows left alone
        if document_number_of(person) not in (w[2].doc_number, w[5].doc_number):
            assert person.updated_at == stamp[person.id]
    assert registry_counts() == counts

    again = run_import(system, tree[HERE], "roster.csv", second, mode="upsert")
    assert again.result["summary"]["updated"] == 0 and again.result["summary"]["added"] == 0
    assert again.result["changed"] is False
    assert "本次导入没有产生任何变更" in again.result["message"]
    assert "导入过" in again.result["message"]  # the same file was imported before
    for mode in ("add", "upsert", "dry-run"):
        rerun = run_import(system, tree[HERE], "roster.csv", second, mode=mode)
        assert rerun.result["summary"]["added"] == 0 and rerun.result["summary"]["updated"] == 0
        assert registry_counts() == counts
    assert_no_person_twice()


def test_reimporting_a_file_with_problems_changes_nothing(gbk_import, tree, tmp_path):
    counts = registry_counts()
    path = tmp_path / "again.csv"
    path.write_bytes(gbk_import["content"])
    for mode in ("add", "upsert"):
        payload = command_json(str(path), "--org", HERE, "--mode", mode)
        assert payload["summary"]["added"] == 0 and payload["summary"]["updated"] == 0
        assert {r["row"]: r["status"] for r in payload["rows"]} == {
            3: "unchanged", 4: "unchanged", 6: "unchanged", 7: "conflict", 8: "duplicate", 9: "error",
            11: "unchanged", 12: "error", 13: "unchanged",
        }  # fmt: skip
        assert registry_counts() == counts
    assert_no_person_twice()


# ---------------------------------------------------------------------------------------------------------------
# 4. Scoping


@pytest.mark.parametrize(
    ("username", "code", "error"),
    [
        ("grassroots_cadre", "SZ-GS-T01-123", NotFound),  # "12" must not cover "123"
        ("grassroots_cadre", "SZ-GS-T02-E1", NotFound),
        ("other_district_cadre", HERE, NotFound),
        ("district_auditor", HERE, PermissionDenied),
        ("town_cadre", "SZ-GS-T01", ValidationFailed),  # not a grassroots union
    ],
)
def test_import_outside_scope_is_refused_and_writes_nothing(actors, tree, today, username, code, error):
    w = workers(41, today, 3)
    content = roster_csv([roster_row(i + 1, x) for i, x in enumerate(w)])
    with pytest.raises(error):
        roster_import_request(
            actor=actors[username], org=tree[code], filename="r.csv", content=content, mode="add",
            enqueue=lambda job_id: pytest.fail("queued"),
        )  # fmt: skip
    assert JobRun.objects.count() == 0
    assert registry_counts() == (0, 0)


def test_command_as_a_cadre_is_scoped(accounts, tree, today, tmp_path):
    w = workers(42, today, 2)
    path = tmp_path / "r.csv"
    path.write_bytes(roster_csv([roster_row(i + 1, x) for i, x in enumerate(w)]))
    with pytest.raises(CommandError):
        command_json(str(path), "--org", "SZ-GS-T01-123", "--user", "grassroots_cadre")
    assert JobRun.objects.count() == 0 and registry_counts() == (0, 0)
    payload = command_json(str(path), "--org", HERE, "--user", "grassroots_cadre")
    assert payload["summary"]["added"] == 2
    assert set(members_of(tree[HERE])) == {x.doc_number for x in w}


def test_cadres_import_into_their_own_subtree(actors, tree, today):
    w = workers(43, today, 2)
    job = run_import(actors["town_cadre"], tree["SZ-GS-T01-123"], "r.csv", roster_csv([roster_row(1, w[0])]))
    assert job.result["summary"]["added"] == 1
    job = run_import(actors["grassroots_cadre"], tree[HERE], "r.csv", roster_csv([roster_row(1, w[1])]))
    assert job.result["summary"]["added"] == 1


def test_cancel_only_by_the_requester_and_only_while_unfinished(actors, tree, today):
    w = workers(44, today, 2)
    content = roster_csv([roster_row(i + 1, x) for i, x in enumerate(w)])
    job = roster_import_request(
        actor=actors["grassroots_cadre"], org=tree[HERE], filename="r.csv", content=content, mode="add",
        enqueue=lambda job_id: None,
    )  # fmt: skip
    with pytest.raises(DomainError) as refused:
        roster_import_cancel(actor=actors["town_cadre"], job=job)
    assert refused.value.code == "not_yours"
    cancelled = roster_import_cancel(actor=actors["grassroots_cadre"], job=job)
    assert cancelled.status == JobStatus.CANCELLED
    roster_import_run(str(job.id))
    assert registry_counts() == (0, 0)
    with pytest.raises(DomainError) as refused:
        roster_import_cancel(actor=actors["grassroots_cadre"], job=job)
    assert refused.value.code == "finished"


def test_unreadable_files_are_refused_at_the_edge(system, tree):
    for filename, content in [
        ("r.csv", "姓名,手机号码\n张三,13800138000\n".encode()),  # no ID column
        ("r.xlsx", b"not a workbook"),
        ("r.pdf", b"%PDF-1.4"),
        ("r.csv", b""),
    ]:
        with pytest.raises(ValidationFailed):
            roster_import_request(actor=system, org=tree[HERE], filename=filename, content=content, mode="add")
    with pytest.raises(SheetUnreadable):
        read_table("姓名,手机号码\n".encode(), "r.csv", ROSTER_COLUMNS)
    assert JobRun.objects.count() == 0
