"""The demo federation's seed as the demo tests run it, and what they compare before and after."""

import io

from django.core.management import call_command

from gonghui.accounts.models import User
from gonghui.casework.models import (
    CareCampaign,
    CareVisit,
    CaseSerial,
    HardshipAid,
    HardshipApproval,
    HardshipFile,
    InsuranceClaim,
    InsuranceEnrolment,
    InsurancePayout,
    InsurancePlan,
    LegalAidRecord,
    ServiceCase,
    StudentGrant,
)
from gonghui.members.models import (
    CardSerial,
    DeclaredTotal,
    JoinApplication,
    Membership,
    Notice,
    Person,
    TransferRequest,
)
from gonghui.orgs.models import Employer, Organisation
from gonghui.stations.models import DemandPoint, Station, StationPhoto, StationRating

ORGS, MEMBERS, SEED = 300, 400, 7


def seed(*extra: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--orgs", str(ORGS), "--members", str(MEMBERS), "--seed", str(SEED), *extra, stdout=out)
    return out.getvalue()


def org_rows() -> list[tuple[str, str, str]]:
    return list(Organisation.objects.order_by("path").values_list("code", "name", "path"))


def employer_rows() -> list[tuple]:
    return list(
        Employer.objects.order_by("uscc").values_list(
            "uscc", "name", "employee_count", "industry", "town_org__code", "covering_union__code"
        )
    )


def clear_demo_data() -> None:
    casework = (
        CareVisit,
        CareCampaign,
        InsurancePayout,
        InsuranceClaim,
        HardshipAid,
        HardshipApproval,
        HardshipFile,
        LegalAidRecord,
        StudentGrant,
        ServiceCase,
        InsuranceEnrolment,
        InsurancePlan,
        CaseSerial,
    )
    for model in casework:
        model.objects.all().delete()
    for model in (Notice, TransferRequest, JoinApplication, DeclaredTotal, Membership, Person, CardSerial):
        model.objects.all().delete()
    for model in (StationRating, StationPhoto, Station, DemandPoint):
        model.objects.all().delete()
    User.objects.all().delete()
    Employer.objects.all().delete()
    Organisation.objects.all().delete()
