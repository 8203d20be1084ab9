import random
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from gonghui.accounts.services import account_create
from gonghui.common.actor import system_actor
from gonghui.demo.federation import ROOT, build_federation
from gonghui.demo.logins import DEMO_LOGINS, DEMO_MEMBER, DEMO_PASSWORD
from gonghui.demo.members import FEATURED_UNION, seed_members
from gonghui.demo.services import seed_services
from gonghui.demo.stations import employer_location, seed_stations
from gonghui.members.figures import failing_refresh
from gonghui.orgs.models import Employer, Organisation, OrgType
from gonghui.orgs.services import employer_bulk_create, org_create, org_tree_bulk_create


class Command(BaseCommand):
    help = "Load the deterministic demo city federation (organisations, employers, one login per role)."

    def add_arguments(self, parser):
        parser.add_argument("--orgs", type=int, default=3000, help="approximate number of organisations (≥50)")
        parser.add_argument(
            "--members", type=int, default=20000, help="number of demo members spread over the grassroots unions"
        )
        parser.add_argument("--seed", type=int, default=2023)
        parser.add_argument("--if-empty", action="store_true", help="do nothing when organisations already exist")

    def handle(self, *args, orgs: int, members: int, seed: int, if_empty: bool, **options):
        if orgs < 50:
            raise CommandError("--orgs must be at least 50")
        if members < 0:
            raise CommandError("--members must not be negative")
        if Organisation.objects.exists():
            if if_empty:
                self.stdout.write("演示数据已存在，跳过加载。")
                return
            raise CommandError("The database already holds organisations; seed_demo only loads into an empty one.")
        started = time.perf_counter()

        def say(text: str) -> None:
            # A big demo takes minutes: each step says what it is doing, so a silent terminal never looks hung.
            self.stdout.write(f"[{time.perf_counter() - started:6.1f} 秒] {text}")
            self.stdout.flush()

        actor = system_actor("seed_demo")
        say(f"正在生成组织树（约 {orgs} 个工会组织）和企业名录……")
        federation = build_federation(orgs=orgs, seed=seed)
        with transaction.atomic():
            name, code, region = ROOT
            org_create(
                actor=actor,
                parent=None,
                name=name,
                code=code,
                org_type=OrgType.CITY,
                region_code=region,
                founded_on=federation.specs[0].founded_on,
                address="江苏省苏州市姑苏区三香路",
                contact_person="市总办公室",
            )
            org_tree_bulk_create(actor=actor, specs=federation.specs)
            ids = dict(Organisation.objects.values_list("code", "id"))
            places = random.Random(seed)
            employer_bulk_create(
                actor=actor,
                employers=[
                    Employer(
                        name=e["name"],
                        uscc=e["uscc"],
                        employee_count=e["staff"],
                        industry=e["industry"],
                        town_org_id=ids[e["town"]],
                        covering_union_id=ids[e["union"]] if e["union"] else None,
                        **dict(zip(("lat", "lng"), employer_location(e["town"], places), strict=True)),
                    )
                    for e in federation.employers
                ],
            )
            for login in DEMO_LOGINS:
                org = Organisation.objects.get(code=login.org_code)
                account_create(
                    actor=actor,
                    username=login.username,
                    full_name=login.full_name,
                    org=org,
                    role=login.role,
                    password=DEMO_PASSWORD,
                )
        say(f"已写入 {Organisation.objects.count()} 个工会组织、{Employer.objects.count()} 家企业/单位和演示账号。")
        member_figures = None
        if members:
            say(f"正在加载 {members} 名会员……")
            member_figures = seed_members(
                actor=actor, members=members, seed=seed, progress=lambda done: say(f"会员 {done}/{members}")
            )
            say("正在生成职工服务申请……")
        service_figures = seed_services(actor=actor, union_code=FEATURED_UNION) if members else {"cases": 0}
        say("正在生成服务站点……")
        station_figures = seed_stations(actor=actor, seed=seed)
        _enrol_demo_member(actor)
        say("正在核查会员信息准确率……")
        failing_refresh()  # 准确率, as the nightly data-quality re-check would have left it
        members_text = (
            f"{member_figures['members']} 名会员、{member_figures['applications']} 份待审核入会申请、"
            f"{member_figures['transfers']} 件在办接转、{service_figures['cases']} 件职工服务申请，"
            if member_figures
            else ""
        )
        self.stdout.write(
            f"已加载演示数据：{Organisation.objects.count()} 个工会组织，{Employer.objects.count()} 家企业/单位，"
            f"{members_text}{station_figures['stations']} 个服务站点，"
            f"{len(DEMO_LOGINS)} 个演示账号（{time.perf_counter() - started:.1f} 秒）。"
        )


def _enrol_demo_member(actor) -> None:
    """The member the portal demo signs in as (README, `make run` output)."""
    from gonghui.members.services import member_enrol

    union = Organisation.objects.get(code=DEMO_MEMBER.union_code)
    member_enrol(
        actor=actor,
        org=union,
        doc_type="resident_id",
        doc_number=DEMO_MEMBER.doc_number,
        phone=DEMO_MEMBER.phone,
        name=DEMO_MEMBER.name,
        ethnicity="汉族",
        education="bachelor",
        employment_form="standard",
        # She works at the firm her union covers, and has belonged to it for years (not since the day of the demo).
        work_unit=Employer.objects.filter(covering_union=union).order_by("name").values_list("name", flat=True)[0],
        joined_on=DEMO_MEMBER.joined_on,
        post="质检员",
    )
