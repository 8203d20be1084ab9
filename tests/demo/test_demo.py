"""The demo federation: deterministic for a seed, valid codes, a consistent tree and the published sign-ins.

The federation is seeded once for the module (`seeded`, tests/demo/conftest.py) into the empty test database; each
test runs in a savepoint of it. The command on an empty database is in test_seed_demo_empty.py.
"""

import re
from datetime import date

import pytest
from django.core.management import CommandError
from django.utils import timezone
from stdnum.cn import uscc

from gonghui.accounts.models import User
from gonghui.audit.models import AuditEvent
from gonghui.casework.models import CareVisit, HardshipFile, InsurancePayout, ServiceCase, StudentGrant
from gonghui.common.geo import region_bounds
from gonghui.demo.federation import ROOT, build_federation
from gonghui.demo.logins import DEMO_LOGINS, DEMO_MEMBER, DEMO_PASSWORD
from gonghui.members.documents import normalise_document
from gonghui.members.models import DeclaredTotal, JoinApplication, Membership, Person, TransferRequest
from gonghui.members.people import document_number_of
from gonghui.orgs.models import Employer, Organisation, OrgStatus
from gonghui.stations.models import DemandPoint, Station, StationKind
from tests.demo.factories import MEMBERS, ORGS, SEED, clear_demo_data, employer_rows, org_rows, seed

pytestmark = pytest.mark.django_db


def test_seed_demo_twice_into_empty_databases_gives_the_same_tree(seeded):
    first_orgs, first_employers = org_rows(), employer_rows()
    clear_demo_data()
    assert Organisation.objects.count() == 0

    seed()

    assert org_rows() == first_orgs
    assert employer_rows() == first_employers


def test_seeded_tree_matches_the_federation(seeded):
    federation = build_federation(orgs=ORGS, seed=SEED)
    rows = org_rows()
    by_path = {path: code for code, _name, path in rows}

    assert len(rows) == ORGS
    assert Organisation.objects.filter(status=OrgStatus.ACTIVE).count() == ORGS
    root = Organisation.objects.get(code="SZ")
    assert (root.name, root.path, root.depth, root.region_code) == (ROOT[0], "0001", 1, ROOT[2])
    expected = {(s.code, s.name, s.parent_code) for s in federation.specs}
    actual = {(code, name, by_path[path[:-4]]) for code, name, path in rows if code != "SZ"}
    assert actual == expected
    assert Employer.objects.count() == len(federation.employers)
    assert {e["uscc"] for e in federation.employers} == set(Employer.objects.values_list("uscc", flat=True))


def test_seeded_tree_is_consistent(seeded):
    assert Organisation.objects.find_problems() == ([], [], [], [], [])
    for org in Organisation.objects.exclude(code="SZ"):
        parent = Organisation.objects.get_parent(org)
        assert org.depth == parent.depth + 1
        assert org.code.startswith(parent.code + "-")


def test_all_generated_usccs_are_valid(seeded):
    org_usccs = list(Organisation.objects.exclude(uscc=None).values_list("uscc", flat=True))
    employer_usccs = list(Employer.objects.values_list("uscc", flat=True))

    assert len(org_usccs) == Organisation.objects.filter(org_type__in=["grassroots", "joint_grassroots"]).count()
    assert org_usccs and employer_usccs
    assert [code for code in org_usccs + employer_usccs if not uscc.is_valid(code)] == []
    assert all(code.startswith("81") for code in org_usccs)
    assert all(code.startswith("91") for code in employer_usccs)
    assert len(set(org_usccs + employer_usccs)) == len(org_usccs) + len(employer_usccs)


def test_demo_logins_exist_with_their_organisations(seeded):
    assert User.objects.count() == len(DEMO_LOGINS)
    for login in DEMO_LOGINS:
        user = User.objects.get(username=login.username)
        assert (user.full_name, user.role, user.org.code) == (login.full_name, login.role, login.org_code)
        assert user.is_active and user.is_staff and not user.is_superuser
        assert user.check_password(DEMO_PASSWORD)
    assert User.objects.get(username="jiceng_ganbu").org.org_type == "grassroots"


def test_demo_login_signs_in(seeded):
    from django.test import Client

    client = Client()
    response = client.post("/admin/login/", {"username": "qu_ganbu", "password": DEMO_PASSWORD, "next": "/admin/"})

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_seed_says_what_it_is_doing_as_it_goes(seeded):
    lines = seeded.splitlines()
    steps = [line.split("] ", 1)[1] for line in lines[:-1]]
    assert all(re.fullmatch(r"\[ *\d+\.\d 秒\] .+", line) for line in lines[:-1])
    assert steps[0] == f"正在生成组织树（约 {ORGS} 个工会组织）和企业名录……"
    assert steps[1] == f"已写入 {ORGS} 个工会组织、{Employer.objects.count()} 家企业/单位和演示账号。"
    assert steps[2] == f"正在加载 {MEMBERS} 名会员……"
    counts = [int(step.removeprefix("会员 ").split("/")[0]) for step in steps if step.startswith("会员 ")]
    assert counts == sorted(counts) and counts[-1] == MEMBERS and 5 <= len(counts) <= 10
    assert all(step.endswith(f"/{MEMBERS}") for step in steps if step.startswith("会员 "))
    assert steps[-3:] == ["正在生成职工服务申请……", "正在生成服务站点……", "正在核查会员信息准确率……"]
    assert lines[-1].startswith("已加载演示数据：")


def test_every_demo_union_stands_for_someone(seeded):
    """Each grassroots union covers an employer of its own, and each building federation has a union under it."""
    grassroots = Organisation.objects.filter(org_type__in=["grassroots", "joint_grassroots"])
    covering = set(Employer.objects.exclude(covering_union=None).values_list("covering_union__code", flat=True))
    assert sorted(set(grassroots.values_list("code", flat=True)) - covering) == []
    regionals = list(Organisation.objects.filter(org_type="regional").values_list("code", flat=True))
    assert regionals
    assert sorted(c for c in regionals if not grassroots.filter(code=f"{c}-J001").exists()) == []


def test_the_demo_member_has_belonged_for_years_at_the_firm_her_union_covers(seeded):
    membership = Membership.objects.select_related("person", "org").get(person__name=DEMO_MEMBER.name)
    assert membership.joined_on == DEMO_MEMBER.joined_on == date(2016, 9, 1)
    covered = set(Employer.objects.filter(covering_union=membership.org).values_list("name", flat=True))
    assert membership.person.work_unit in covered


def test_seed_output_and_audit(seeded):
    applications = JoinApplication.objects.count()
    transfers = TransferRequest.objects.count()
    seeded = seeded.splitlines()[-1]
    assert seeded.startswith(
        f"已加载演示数据：{ORGS} 个工会组织，{Employer.objects.count()} 家企业/单位，{MEMBERS} 名会员、"
        f"{applications} 份待审核入会申请、{transfers} 件在办接转、{ServiceCase.objects.count()} 件职工服务申请，"
        f"{Station.objects.count()} 个服务站点，7 个演示账号（"
    )
    actions = list(AuditEvent.objects.order_by("at").values_list("action", "actor_label"))
    head = [
        ("org.create", "seed_demo"),
        ("org.bulk_create", "seed_demo"),
        ("employer.bulk_create", "seed_demo"),
        *[("account.create", "seed_demo")] * len(DEMO_LOGINS),
    ]
    assert actions[: len(head)] == head
    loaded_unions = Membership.objects.values("org").distinct().count()
    tail = [action for action, _label in actions[len(head) :]]
    assert tail.count("membership.bulk_load") == loaded_unions
    assert tail.count("declared_total.record") == loaded_unions
    assert tail.count("join_application.submit") == applications
    assert tail.count("transfer.request") == transfers
    assert tail.count("case.submit") == ServiceCase.objects.count()
    assert tail.count("station.create") == Station.objects.count()
    assert tail.count("stations.demand_import") == 1
    assert {label for _action, label in actions} == {"seed_demo"}


def test_seeded_members_are_valid_real_name_records(seeded):
    people = list(Person.objects.all())
    assert Membership.objects.filter(source="import").count() == MEMBERS
    for person in people:
        document = normalise_document(person.doc_type, document_number_of(person))
        assert (document.birth_date, document.sex) == (person.birth_date, person.sex)
    assert len({p.doc_index for p in people}) == len(people)
    forms = set(Person.objects.values_list("employment_form", flat=True))
    assert "standard" in forms and forms & {"courier", "food_delivery", "ride_hailing", "truck_driver"}
    assert Membership.objects.filter(org__code="SZ-GS-T01-E001").count() >= 60  # the demo grassroots cadre's union


def test_seeded_work_queues(seeded):
    pending = JoinApplication.objects.filter(status="pending")
    assert pending.filter(org__code="SZ-GS-T01-E001").count() >= 4
    assert pending.filter(due_on__lt=timezone.localdate()).exists()
    assert set(TransferRequest.objects.values_list("status", flat=True)) == {"pending_release", "pending_accept"}
    assert TransferRequest.objects.filter(escalated_at__isnull=False).exists()
    loaded = set(Membership.objects.values_list("org", flat=True))
    assert set(DeclaredTotal.objects.values_list("org", flat=True)) == loaded


def test_seeded_service_centre_has_work_at_every_step(seeded):
    cases = ServiceCase.objects.filter(home_org__code="SZ-GS-T01-E001")
    statuses = set(cases.values_list("status", flat=True))
    assert statuses == {"submitted", "accepted", "in_progress", "closed", "rejected"}
    assert set(cases.values_list("kind", flat=True)) == {"hardship", "legal", "insurance", "student"}
    assert cases.filter(org__code="SZ-GS").filter(kind="legal").count() == 2  # legal aid at the county federation
    assert cases.filter(escalated_at__isnull=False, status="submitted").count() == 2
    assert cases.filter(rating=5).count() == 2
    assert cases.filter(callback_status="pending").exists()
    assert HardshipFile.objects.filter(status="transition").count() == 1
    assert InsurancePayout.objects.count() == 1 and StudentGrant.objects.count() == 1
    assert CareVisit.objects.count() == 7


def test_seeded_members_are_deterministic(seeded):
    first = list(Membership.objects.order_by("card_number").values_list("card_number", "person__name", "org__code"))
    clear_demo_data()
    seed()
    second = list(Membership.objects.order_by("card_number").values_list("card_number", "person__name", "org__code"))
    assert first == second


def test_if_empty_on_a_loaded_database_does_nothing(seeded):
    before = (org_rows(), employer_rows(), User.objects.count(), AuditEvent.objects.count())

    output = seed("--if-empty")

    assert output == "演示数据已存在，跳过加载。\n"
    assert (org_rows(), employer_rows(), User.objects.count(), AuditEvent.objects.count()) == before


def test_without_if_empty_a_loaded_database_is_refused(seeded):
    before = (org_rows(), employer_rows(), User.objects.count(), AuditEvent.objects.count())

    with pytest.raises(CommandError, match="already holds organisations"):
        seed()

    assert (org_rows(), employer_rows(), User.objects.count(), AuditEvent.objects.count()) == before


def test_demo_member_signs_in_to_the_portal_and_binds(seeded):
    from gonghui.demo.logins import DEMO_MEMBER
    from gonghui.members.member_accounts import member_account_bind, phone_code_send, phone_code_sign_in
    from gonghui.members.selectors import membership_holding

    account = phone_code_sign_in(phone=DEMO_MEMBER.phone, code=phone_code_send(phone=DEMO_MEMBER.phone).code)
    account = member_account_bind(
        account=account, name=DEMO_MEMBER.name, doc_type="resident_id", doc_number=DEMO_MEMBER.doc_number
    )

    holding = membership_holding(account.person)
    assert holding.org.code == DEMO_MEMBER.union_code
    assert holding.status == "active"


def test_seeded_stations_and_the_circle(seeded):
    # Twelve stations (five outdoor, one of each other type) around each of the nine district centres, every one
    # inside the region, managed by a town; 200 worker locations and located employers in 姑苏区.
    assert Station.objects.count() == 9 * 12
    assert set(Station.objects.values_list("org__org_type", flat=True)) == {"town"}
    assert set(Station.objects.values_list("kind", flat=True)) == set(StationKind.values) - {"other"}
    bounds = region_bounds()
    assert all(bounds.contains(lat, lng) for lat, lng in Station.objects.values_list("lat", "lng"))
    assert DemandPoint.objects.filter(org__code="SZ-GS").count() == 200
    located = Employer.objects.filter(lat__isnull=False)
    assert located.exists()
    assert set(located.values_list("town_org__code", flat=True)) == set(
        Employer.objects.filter(town_org__code__startswith="SZ-GS-").values_list("town_org__code", flat=True)
    )
    assert not Employer.objects.exclude(town_org__code__startswith="SZ-GS-").filter(lat__isnull=False).exists()
