"""Shared data, constants and helpers of the back-office statistics page tests (test_stats_pages*.py)."""

import io
import re
from datetime import UTC, date, datetime

from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from python_calamine import CalamineWorkbook

from gonghui.audit.models import AuditEvent
from gonghui.error_pages import FORBIDDEN
from gonghui.members import services as members
from gonghui.members.figures import failing_refresh
from gonghui.orgs.services import employer_create
from tests.conftest import valid_uscc
from tests.members.factories import enrol, resident_id

NOW = datetime(2026, 5, 20, 4, 0, tzinfo=UTC)  # 12:00 in Asia/Shanghai
SZ, GS, T01, T02, WZ = "SZ", "SZ-GS", "SZ-GS-T01", "SZ-GS-T02", "SZ-WZ"
C1, E12, E123, T2E1, WZE1 = "SZ-GS-T01-C1", "SZ-GS-T01-12", "SZ-GS-T01-123", "SZ-GS-T02-E1", "SZ-WZ-T01-E1"
MISSING_CODE = "SZ-NOPE-99"
FORBIDDEN_MARK = f"<h1>{FORBIDDEN[0]}</h1>".encode()  # the project's 403 page
NOT_FOUND = {"code": "not_found", "message": "对象不存在或无权访问"}
PERMISSION_DENIED = {"code": "permission_denied", "message": "当前角色无权执行此操作"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
REPORTS = ("members", "founding", "annual_xlsx", "annual_docx")
ADMINISTRATORS = ("auditor", "sysadmin", "secadmin")
MADE = "制表：district_cadre\u3000导出时间：2026年05月20日 12:00"


def fix_clock(monkeypatch):
    """Every timezone.now() / localdate() / localtime() of the code under test reads the fixed time."""
    monkeypatch.setattr(timezone, "now", lambda: NOW)


def build_data(tree, system):
    def person(code, name, birth, seq, joined, *, form="standard", hukou="non_agricultural", phone=None):
        return enrol(
            system,
            tree[code],
            name=name,
            number=resident_id(birth, seq),
            joined_on=joined,
            employment_form=form,
            hukou_type=hukou,
            phone=phone or f"1391234{seq:04d}",
        )

    shared_phone = "13912349999"
    m = {
        "A": person(E12, "周雪梅", date(1995, 3, 8), 2, date(2025, 3, 10), hukou="agricultural"),
        "B": person(E12, "吴建国", date(2000, 7, 1), 1, date(2026, 2, 15), form="courier"),
        "C": person(E12, "郑丽华", date(1988, 10, 10), 4, date(2026, 4, 2), form="food_delivery", hukou="agricultural"),
        "D": person(E12, "王志强", date(1975, 1, 20), 3, date(2024, 6, 1)),
        "E": person(E123, "冯海涛", date(1985, 6, 6), 5, date(2025, 11, 20)),
        "F": person(E123, "陈静怡", date(1992, 2, 2), 6, date(2026, 1, 10)),
        "G": person(T2E1, "褚明辉", date(1998, 9, 9), 7, date(2026, 5, 6), form="ride_hailing", phone=shared_phone),
        "H": person(T2E1, "卫秀英", date(1965, 4, 4), 8, date(2025, 5, 1)),
        "K": person(T2E1, "蒋国庆", date(1970, 10, 1), 9, date(2023, 3, 1)),
        "I": person(WZE1, "沈小龙", date(1990, 5, 17), 11, date(2026, 3, 1), phone=shared_phone),
        "J": person(WZE1, "韩美玲", date(1980, 12, 12), 12, date(2025, 2, 1)),
    }
    members.membership_leave(actor=system, membership=m["F"], reason="离职", on=date(2026, 3, 5))
    members.membership_cancel(actor=system, membership=m["K"], reason="录入错误", on=date(2025, 8, 1))
    members.membership_reserve(actor=system, membership=m["E"], reason="长期病假")
    transfer = members.transfer_request(actor=system, membership=m["D"], to_org=tree[E123], reason="工作调动")
    members.transfer_release(actor=system, transfer=transfer)
    members.transfer_accept(actor=system, transfer=transfer)
    members.declared_total_record(actor=system, org=tree[E12], total=5)
    members.declared_total_record(actor=system, org=tree[E123], total=4)
    members.declared_total_record(actor=system, org=tree[T2E1], total=2)
    employers = [
        (T01, 80, E12),
        (T01, 150, None),
        (T01, 120, E123),
        (T01, 10, None),
        (T02, 30, T2E1),
        (T02, 40, None),
        ("SZ-WZ-T01", 300, WZE1),
    ]
    for i, (town, staff, union) in enumerate(employers, 1):
        employer_create(
            actor=system,
            name=f"{'甲乙丙丁戊己庚'[i - 1]}号有限公司",
            uscc=valid_uscc(f"91320508MA1W00{i:02d}A"),
            employee_count=staff,
            industry="C",
            town_org=tree[town],
            covering_union=tree[union] if union else None,
        )
    failing_refresh()
    return m


def text(response) -> str:
    return response.content.decode()


def dashboard(client: Client, **query):
    return client.get(reverse("admin:stats_dashboard"), query)


def report(client: Client, name: str, **query):
    return client.get(reverse("admin:stats_report", args=[name]), query)


def card(label: str, value: str, note: str) -> str:
    """One headline figure exactly as the page renders it."""
    return (
        f'<div class="gh-stat"><div class="gh-stat-label">{label}</div>'
        f'<div class="gh-stat-value">{value}</div><div class="gh-muted">{note}</div></div>'
    )


def section(page: str, heading: str) -> str:
    """The <section> whose heading is `heading`."""
    start = page.index(f">{heading}</h3>")
    return page[start : page.index("</section>", start)]


def ranking(page: str) -> list[tuple[str, str, list[str]]]:
    """(link, name, [figures]) of each row of the ranking table, in the order shown."""
    rows = re.findall(
        r'<tr><td><a class="gh-link" href="([^"]*)">([^<]*)</a>(.*?)</tr>', section(page, "下级组织排名"), re.S
    )
    return [(href, name, re.findall(r'<td class="gh-num">([^<]*)</td>', rest)) for href, name, rest in rows]


def sheet_rows(response) -> list[list]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.content))
    assert len(book.sheet_names) == 1
    return book.get_sheet_by_index(0).to_python()


def exports() -> list[tuple]:
    return [
        (e.actor_label, e.object_type, e.object_id, e.object_label, e.object_org_path, e.details)
        for e in AuditEvent.objects.filter(action="stats.export").order_by("at", "id")
    ]


def bearer(code: str) -> Client:
    out = io.StringIO()
    call_command("create_api_token", "--name", f"大屏{code}", "--org", code, stdout=out, stderr=io.StringIO())
    return Client(headers={"Authorization": f"Bearer {out.getvalue().strip()}"})


def api_dashboard(client: Client, org, **query):
    return client.get(f"/api/v1/stats/orgs/{org.id}/dashboard", query)


def api_annual(client: Client, org, **query):
    return client.get(f"/api/v1/stats/orgs/{org.id}/annual", query)


GUSU_2026 = [
    ("会员发展", "会员总数", 7, "人", "截至5月20日共有会员 7 人，比上年同期增加 3 人", ""),
    ("会员发展", "新增会员", 4, "人", "今年以来新增会员 4 人", ""),
    ("会员发展", "会员接转", 1, "人", "办理会员接转转入 1 人、转出 1 人", ""),
    ("会员发展", "退会及注销", 1, "人", "退会 1 人，注销会籍 0 人", ""),
    ("会员发展", "女职工会员", 3, "人", "女职工会员 3 人，占会员总数的 42.9%", ""),
    ("会员发展", "农民工会员", 2, "人", "农民工会员 2 人，占会员总数的 28.6%", ""),
    ("会员发展", "新就业形态劳动者会员", 3, "人", "新就业形态劳动者会员 3 人", ""),
    ("组织建设", "基层工会", 3, "个", "共有基层工会组织 3 个", "当前数"),
    ("组织建设", "25人以上企业建会率", 60.0, "%", "25人以上企业建会率达 60.0%（已建会 3 家，共 5 家）", "当前数"),
    ("组织建设", "100人以上企业建会率", 50.0, "%", "百人以上企业建会率达 50.0%（已建会 1 家，共 2 家）", "当前数"),
    ("会员实名制", "入库率", 63.6, "%", "会员实名制入库率 63.6%", "当前数"),
    ("会员实名制", "准确率", 85.7, "%", "会员信息准确率 85.7%", "当前数，按最近一次数据质量核查"),
    ("职工服务", "困难帮扶", 0, "人", "帮扶困难职工 0 人，发放帮扶资金 0.00 元", ""),
    ("职工服务", "困难职工档案", 0, "户", "在档困难职工 0 户", "当前数"),
    ("职工服务", "法律援助", 0, "件", "收到法律援助申请 0 件，为职工挽回经济损失 0.00 元", ""),
    ("职工服务", "职工互助保障", 0, "人次", "职工互助保障参保 0 人次，为 0 人赔付互助金 0.00 元", ""),
    ("职工服务", "金秋助学", 0, "人", "金秋助学资助困难职工子女 0 人，发放助学金 0.00 元", ""),
    ("职工服务", "走访慰问", 0, "人次", "走访慰问职工 0 人次，发放慰问金 0.00 元", ""),
]
# The first rows of the complete year 2025: at 31 December 2025 (A, D, E, H) beside 31 December 2024 (D, K).
GUSU_2025_MEMBERS = [
    ("会员发展", "会员总数", 4, "人", "截至年底共有会员 4 人，比上年同期增加 2 人", ""),
    ("会员发展", "新增会员", 3, "人", "全年新增会员 3 人", ""),
    ("会员发展", "会员接转", 0, "人", "办理会员接转转入 0 人、转出 0 人", ""),
    ("会员发展", "退会及注销", 1, "人", "退会 0 人，注销会籍 1 人", ""),
    ("会员发展", "女职工会员", 2, "人", "女职工会员 2 人，占会员总数的 50.0%", ""),
    ("会员发展", "农民工会员", 1, "人", "农民工会员 1 人，占会员总数的 25.0%", ""),
    ("会员发展", "新就业形态劳动者会员", 0, "人", "新就业形态劳动者会员 0 人", ""),
]
