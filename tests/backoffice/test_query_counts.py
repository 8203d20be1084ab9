"""How many queries the busiest back-office pages run, locked in: the dashboard (a city and a grassroots cadre), the
member, organisation and service-case lists and a service case's page.

Each page is counted with a few rows and again with several more: the count is the same, so no page reads its rows
one by one (an N+1 would show as a difference). Every page is requested once before it is counted, so that what a
first request of a session does once (the content types, the session's own row) is not counted. The counts are the
same on SQLite and PostgreSQL.
"""

import pytest
from django.urls import reverse

from gonghui.casework.services import case_attach, case_enter
from gonghui.orgs.models import OrgType
from gonghui.orgs.services import org_create
from tests.casework.factories import ALL_CONSENT, FORMS
from tests.members.factories import enrol

pytestmark = pytest.mark.django_db

UNION, TOWN = "SZ-GS-T01-12", "SZ-GS-T01"
# Names without digits (the registry refuses digits in a name).
NAMES = "赵钱孙李周吴郑王冯陈"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
FEW, MORE = 3, 10


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


class World:
    """Members with a service case each in union "12", grassroots unions under its town, districts under the city
    (the rows of the city's dashboard) and attachments on one case; grow(n) brings each to n."""

    def __init__(self, tree, actors, system):
        self.tree, self.actors, self.system = tree, actors, system
        self.memberships, self.cases, self.unions, self.districts, self.attachments = [], [], [], [], []

    def grow(self, n: int) -> None:
        cadre = self.actors["grassroots_cadre"]
        while len(self.memberships) < n:
            i = len(self.memberships) + 1
            membership = enrol(cadre, self.tree[UNION], name=f"{NAMES[i - 1]}小明", seq=500 + i)
            self.memberships.append(membership)
            case = case_enter(
                actor=cadre, membership=membership, kind="legal", data=FORMS["legal"], consent=ALL_CONSENT
            )
            self.cases.append(case)
        while len(self.unions) < n:
            i = len(self.unions) + 1
            self.unions.append(
                org_create(
                    actor=self.system,
                    parent=self.tree[TOWN],
                    name=f"第{i}公司工会委员会",
                    code=f"SZ-GS-T01-Q{i:02d}",
                    org_type=OrgType.GRASSROOTS,
                    region_code="320508",
                )
            )
        while len(self.districts) < n:
            i = len(self.districts) + 1
            self.districts.append(
                org_create(
                    actor=self.system,
                    parent=self.tree["SZ"],
                    name=f"第{i}区总工会",
                    code=f"SZ-Q{i:02d}",
                    org_type=OrgType.COUNTY,
                    region_code="320508",
                )
            )
        while len(self.attachments) < n:
            i = len(self.attachments) + 1
            self.attachments.append(
                case_attach(actor=self.actors["city_cadre"], case=self.cases[0], name=f"证明{i}.pdf", content=PDF)
            )


@pytest.fixture
def world(tree, actors, system):
    return World(tree, actors, system)


def counted(django_assert_num_queries, client, url_of, world, expected: int) -> None:
    """GET the page with FEW and with MORE rows: `expected` queries both times (after a first, uncounted GET)."""
    for n in (FEW, MORE):
        world.grow(n)
        url = url_of(world)
        assert client.get(url).status_code == 200
        with django_assert_num_queries(expected):
            response = client.get(url)
        assert response.status_code == 200
        if "cl" in response.context:  # a change list: it shows every row
            assert len(response.context["cl"].result_list) >= n


# The session and the account (2), the second-factor check and the menu's badges are in every count below.


def test_dashboard_of_a_city_cadre(login, world, django_assert_num_queries):
    dashboard = lambda w: reverse("admin:stats_dashboard")  # noqa: E731
    counted(django_assert_num_queries, login("city_cadre"), dashboard, world, 42)


def test_dashboard_of_a_grassroots_cadre(login, world, django_assert_num_queries):
    dashboard = lambda w: reverse("admin:stats_dashboard")  # noqa: E731
    counted(django_assert_num_queries, login("grassroots_cadre"), dashboard, world, 40)


def test_member_list(login, world, django_assert_num_queries):
    members = lambda w: reverse("admin:members_membership_changelist")  # noqa: E731
    counted(django_assert_num_queries, login("town_cadre"), members, world, 10)


def test_organisation_list(login, world, django_assert_num_queries):
    organisations = lambda w: reverse("admin:orgs_organisation_changelist")  # noqa: E731
    counted(django_assert_num_queries, login("town_cadre"), organisations, world, 10)


def test_service_case_list(login, world, django_assert_num_queries):
    cases = lambda w: reverse("admin:casework_servicecase_changelist")  # noqa: E731
    counted(django_assert_num_queries, login("town_cadre"), cases, world, 10)


def test_service_case_page(login, world, django_assert_num_queries):
    """The page of the case with the attachments (and its timeline, which grows with each attachment)."""
    case_page = lambda w: reverse("admin:case_detail", args=[w.cases[0].id])  # noqa: E731
    counted(django_assert_num_queries, login("grassroots_cadre"), case_page, world, 13)


def test_the_audit_administrators_workbench_reads_the_audit_trail_twice(login, actors, django_assert_num_queries):
    """docs/performance.md: the auditor's workbench runs one grouped count over the audit trail of the last 7 days
    and one query for the 10 latest events, however many events there are."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from gonghui.audit.models import AuditEvent
    from gonghui.audit.services import audit_record

    client = login("auditor")
    events = []
    for n in (FEW, MORE):
        for i in range(n):  # events of a cadre of the city, inside the auditor's scope
            audit_record(
                actor=actors["city_cadre"], action="org.update", object_type="organisation", object_label=f"第{i}号"
            )
        assert client.get(reverse("admin:index")).status_code == 200
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("admin:index")).status_code == 200
        events.append(AuditEvent.objects.count())
        reads = [q["sql"] for q in ctx.captured_queries if "audit_auditevent" in q["sql"].lower()]
        assert len(reads) == 2, reads
    assert events[1] >= events[0] + MORE
