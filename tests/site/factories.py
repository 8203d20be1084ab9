"""The small demo federation the whole-site checks look at, and the people who look at it: shared by
tests/site/test_offline_urls.py, tests/backoffice/test_backoffice_permissions.py and the browser crawl."""

import io
import re
from contextlib import contextmanager
from pathlib import Path

from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from gonghui.accounts.models import User
from gonghui.common.sms import MemorySmsSender
from gonghui.demo.logins import DEMO_MEMBER
from tests.conftest import built_once

DEMO_ORGS, DEMO_MEMBERS, DEMO_SEED = 80, 60, 7


def seed_small_demo() -> None:
    """The demo federation at its smallest: one object at least of every kind the pages show."""
    call_command(
        "seed_demo",
        "--orgs",
        str(DEMO_ORGS),
        "--members",
        str(DEMO_MEMBERS),
        "--seed",
        str(DEMO_SEED),
        stdout=io.StringIO(),
    )


def add_what_the_demo_lacks() -> None:
    """Objects the demo does not make but pages show: an API token, a roster import (a preview job) and a member's
    correction request."""
    from gonghui.accounts.actors import actor_for_user
    from gonghui.accounts.services import api_token_create
    from gonghui.casework.services import case_accept, member_case_apply
    from gonghui.common.actor import system_actor
    from gonghui.imports.roster import roster_import_request, roster_import_run
    from gonghui.members.member_accounts import member_account_of
    from gonghui.members.models import Membership
    from gonghui.members.self_service import member_correction_request, member_transfer_request
    from gonghui.orgs.models import Organisation
    from tests.casework.factories import ALL_CONSENT, FORMS

    api_token_create(actor=system_actor("tests"), org=Organisation.objects.get(code="SZ"), name="省总工会数据平台")
    union = Organisation.objects.get(code=DEMO_MEMBER.union_code)
    cadre = actor_for_user(User.objects.get(username="jiceng_ganbu"), ip="127.0.0.1")
    roster = f"姓名,证件号码\n{DEMO_MEMBER.name},{DEMO_MEMBER.doc_number}\n".encode()
    job = roster_import_request(
        actor=cadre, org=union, filename="名册.csv", content=roster, mode="dry-run", enqueue=lambda job_id: None
    )
    roster_import_run(str(job.id))
    member_client()  # signs in and binds the demo member
    person = Membership.objects.get(org=union, person__name=DEMO_MEMBER.name, status="active").person
    account = member_account_of(person)
    member_correction_request(account=account, changes={"education": "postgraduate"}, note="已取得硕士学位")
    # Her own service case, accepted (a message tells her), and a transfer she asked for.
    case = member_case_apply(account=account, kind="hardship", data=FORMS["hardship"], consent=ALL_CONSENT, ip=None)
    case_accept(actor=cadre, case=case)
    member_transfer_request(account=account, to_org=other_grassroots_union(), reason="工作调动", ip=None)
    applicant_client()


APPLICANT_PHONE = "13900001234"
APPLICANT = {
    "name": "李新工",
    "doc_type": "resident_id",
    "doc_number": "",  # filled below: a valid resident ID
    "ethnicity": "汉族",
    "education": "bachelor",
    "employment_form": "standard",
    "work_unit": "双塔精密机械有限公司",
    "post": "装配工",
    "consent": "on",
}


def other_grassroots_union():
    from gonghui.orgs.models import Organisation, OrgType

    return (
        Organisation.objects.filter(org_type=OrgType.GRASSROOTS, status="active")
        .exclude(code=DEMO_MEMBER.union_code)
        .order_by("code")
        .first()
    )


def _sign_in_by_code(client: Client, phone: str) -> None:
    from datetime import timedelta

    from django.db.models import F

    from gonghui.members.models import PhoneCode
    from gonghui.members.people import phone_index

    # A sign-in on this phone a few seconds ago (the world's set-up signs the member in too) counts as one more than a
    # minute ago: the portal allows one code a minute per phone, and this is a new sign-in, not a resend.
    PhoneCode.objects.filter(phone_index=phone_index(phone)).update(created_at=F("created_at") - timedelta(minutes=2))
    client.post(reverse("portal:login"), {"phone": phone, "action": "send"})
    code = re.search(r"\d{6}", [text for to, text in MemorySmsSender.outbox if to == phone][-1]).group(0)
    client.post(reverse("portal:login"), {"phone": phone, "code": code})


def applicant_client() -> Client:
    """A worker not yet in the registry, signed in, who has applied to join the demo member's union."""
    from datetime import date

    from gonghui.members.models import JoinApplication
    from gonghui.orgs.models import Organisation
    from tests.members.factories import resident_id

    client = Client()
    _sign_in_by_code(client, APPLICANT_PHONE)
    union = Organisation.objects.get(code=DEMO_MEMBER.union_code)
    if not JoinApplication.objects.filter(org=union, person__name=APPLICANT["name"]).exists():
        form = {**APPLICANT, "doc_number": resident_id(date(1995, 3, 8), 21)}
        client.post(reverse("portal:join_union", args=[union.id]), form)
    assert client.get(reverse("portal:applications")).status_code == 200
    cache.clear()
    return client


def backoffice_client(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def member_client() -> Client:
    """The demo member, signed in to the portal with an SMS code and bound to her record (核验身份)."""
    client = Client()
    _sign_in_by_code(client, DEMO_MEMBER.phone)
    client.post(
        reverse("portal:bind"),
        {"name": DEMO_MEMBER.name, "doc_type": "resident_id", "doc_number": DEMO_MEMBER.doc_number},
    )
    assert client.get(reverse("portal:card")).status_code == 200, "the demo member could not sign in and bind"
    cache.clear()  # the sign-in counted towards the code-request rate limit; the next sign-in starts afresh
    return client


@contextmanager
def demo_world(tmp_media: Path):
    """The small demo federation, built once for a module (under `django_db_blocker.unblock()`) in a transaction
    rolled back at the end, with the suite's fast settings (`built_once` in tests/conftest.py)."""
    with built_once(tmp_media):
        seed_small_demo()
        add_what_the_demo_lacks()
        yield
