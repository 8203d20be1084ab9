"""The workbench per role: a cadre's 待办事项 come first (before any figure); a level above the grassroots then sees
its subtree's figures; the audit administrator sees the sensitive events of her scope with links into the trail
filtered to each; the system and security administrators see account matters. A coverage card that would read 0/0 is
replaced by a sentence."""

import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from django.utils import timezone

from gonghui.accounts.models import User
from gonghui.accounts.services import record_login_failure
from gonghui.audit.models import AuditResult
from gonghui.audit.services import audit_record
from gonghui.common.roles import Role
from gonghui.members.services import join_application_submit
from tests.backoffice.factories import page_of, section, sections, stat
from tests.members.factories import COMPLETE_PROFILE, resident_id

pytestmark = pytest.mark.django_db


def apply(system, tree, code: str, seq: int):
    return join_application_submit(
        actor=system,
        org=tree[code],
        doc_type="resident_id",
        doc_number=resident_id(date(1991, 3, 2), seq),
        name="申请人",
        phone=f"139000000{seq:02d}",
        **COMPLETE_PROFILE,
    )


# ---------------------------------------------------------------- cadres


def test_a_grassroots_cadre_sees_her_to_do_list_first_and_no_zero_over_zero(tree, system, login):
    apply(system, tree, "SZ-GS-T01-12", 1)
    page = page_of(login, "grassroots_cadre")
    assert sections(page) == ["gh-todo", "gh-figures"]
    todo = section(page, "gh-todo")
    assert "有待办：待审核入会申请。" in todo
    assert stat(todo, "待审核入会申请") == "1"
    assert (stat(todo, "待办会员接转"), stat(todo, "职工服务待办（本级承办）")) == ("0", "0")
    assert page.index('id="gh-todo"') < page.index("入库会员")
    # Her union has no employer registered: no 建会率 card that would read 0/0, but a sentence.
    assert "0 / 0" not in page
    assert stat(page, "25人以上企业建会率") is None and stat(page, "百人以上企业建会率") is None
    assert "管辖范围内尚未登记25人以上的企业，暂不计算建会率。" in page
    assert stat(page, "本级及下级工会组织") is None  # one union: nothing to count below it


def test_nothing_waiting_is_said_in_words(tree, login):
    todo = section(page_of(login, "grassroots_cadre"), "gh-todo")
    assert "目前没有待办事项。" in todo


def test_an_upper_cadre_sees_to_dos_then_the_subtree_figures(tree, system, login, employer_set):
    apply(system, tree, "SZ-GS-T01-123", 2)
    page = page_of(login, "town_cadre")
    assert sections(page) == ["gh-todo", "gh-figures"]
    assert stat(section(page, "gh-todo"), "待审核入会申请") == "1"
    figures = section(page, "gh-figures")
    assert (stat(figures, "本级及下级工会组织"), stat(figures, "基层工会")) == ("4", "2")
    assert stat(figures, "25人以上企业建会率") == "50.0%"  # 1 of the 2 employers with 25 or more staff
    assert stat(figures, "百人以上企业建会率") == "0.0%"  # 0 of 1
    assert "暂不计算" not in page
    assert "双塔物流有限公司" in page  # 百人以上未建会企业


def test_a_subtree_with_only_small_employers_has_no_100_card(tree, login, employer_set):
    from gonghui.orgs.models import Employer

    Employer.objects.filter(name="双塔物流有限公司").update(employee_count=60)
    page = page_of(login, "town_cadre")
    assert stat(page, "百人以上企业建会率") is None
    assert stat(page, "25人以上企业建会率") == "50.0%"
    assert "管辖范围内尚未登记百人以上的企业，暂不计算百人以上企业建会率。" in page


# ---------------------------------------------------------------- the audit administrator


def test_the_auditor_sees_the_sensitive_events_of_her_scope(tree, actors, login):
    cadre, elsewhere = actors["town_cadre"], actors["other_district_cadre"]
    audit_record(actor=cadre, action="person.reveal", object_type="person", object_label="王五", details={"f": 1})
    audit_record(actor=cadre, action="person.reveal", object_type="person", object_label="赵六")
    audit_record(actor=cadre, action="member.export", object_type="organisation", object_label="双塔街道总工会")
    audit_record(actor=cadre, action="member.search_by_number", object_type="person", object_label="按号码")
    audit_record(actor=cadre, action="membership.enrol", object_type="membership", object_label="不敏感")
    audit_record(actor=elsewhere, action="person.reveal", object_type="person", object_label="吴中的人")

    page = page_of(login, "district_auditor")
    assert sections(page) == ["gh-audit-matters"]
    matters = section(page, "gh-audit-matters")
    rows = re.findall(
        r'<tr><td><a class="gh-link" href="([^"]+)">([^<]+)</a></td><td class="gh-num">(\d+)</td></tr>', matters
    )
    assert [(label, int(n)) for _, label, n in rows] == [
        ("查看完整证件号码/手机号码", 2),
        ("按证件号码/手机号码查询会员", 1),
        ("导出会员名册", 1),
    ]
    since = (timezone.localdate() - timedelta(days=6)).isoformat()
    link = urlsplit(rows[0][0].replace("&amp;", "&"))
    assert link.path == reverse("admin:audit_auditevent_changelist")
    assert parse_qs(link.query) == {"action__exact": ["person.reveal"], "at_from": [since]}
    # The latest events: when, what and who, each linked to its page in the trail; no person's name.
    events = re.findall(
        r'<a class="gh-link" href="/admin/audit/auditevent/([^/]+)/change/">[^<]+</a></td><td>([^<]+)</td>', matters
    )
    assert sorted(label for _, label in events) == sorted(
        ["查看完整证件号码/手机号码"] * 2 + ["导出会员名册", "按证件号码/手机号码查询会员"]
    )
    for name in ("赵六", "王五", "吴中的人", "不敏感"):
        assert name not in matters
    assert "入库会员" not in page and "待办事项" not in page
    # The link leads to the trail narrowed to that kind.
    listing = login("district_auditor").get(rows[0][0].replace("&amp;", "&")).content.decode()
    assert "赵六" in listing and "按号码" not in listing


def test_failed_sign_ins_are_audit_matters_at_the_root(tree, login):
    record_login_failure(username="town_cadre", ip="10.0.0.9")
    page = page_of(login, "auditor")
    matters = section(page, "gh-audit-matters")
    found = re.search(r'<a class="gh-link" href="([^"]+)">登录失败</a></td><td class="gh-num">(\d+)</td>', matters)
    assert found and found.group(2) == "1"
    assert parse_qs(urlsplit(found.group(1).replace("&amp;", "&")).query)["result__exact"] == [AuditResult.FAILED]
    assert "10.0.0.9" in matters and "town_cadre" in matters  # the name typed at the failed sign-in


def test_a_quiet_week_is_said_in_words(tree, login):
    matters = section(page_of(login, "auditor"), "gh-audit-matters")
    assert "管辖范围内没有查看完整号码、导出、按证件号码查询或登录失败的记录" in matters


# ---------------------------------------------------------------- the system and security administrators


def test_the_system_administrator_sees_account_matters_first(tree, accounts, login):
    AccessAttempt.objects.create(
        username="town_cadre", ip_address="10.0.0.8", user_agent="", get_data="", post_data="", http_accept="",
        path_info="/admin/login/", failures_since_start=5,
    )  # fmt: skip
    AccessAttempt.objects.create(
        username="district_cadre", ip_address="10.0.0.8", user_agent="", get_data="", post_data="", http_accept="",
        path_info="/admin/login/", failures_since_start=2,
    )  # fmt: skip
    User.objects.create(
        username="new_auditor", full_name="新审计", org=tree["SZ-GS"], role=Role.AUDIT_ADMIN, is_staff=True,
        role_pending_approval=True,
    )  # fmt: skip
    page = page_of(login, "sysadmin")
    assert sections(page)[:3] == ["gh-account-matters", "gh-grants", "gh-figures"]
    matters = section(page, "gh-account-matters")
    assert "登录锁定的账号（1）" in matters
    assert reverse("admin:accounts_user_change", args=[accounts["town_cadre"].id]) in matters
    assert "district_cadre" not in matters  # two failures: not locked
    assert "由安全管理员核实后解除锁定。" in matters
    assert "new_auditor" in section(page, "gh-grants")
    assert "gh-todo" not in page


def test_the_security_administrator_is_told_how_to_unlock(tree, login):
    page = page_of(login, "secadmin")
    assert sections(page)[0] == "gh-account-matters"
    assert "没有因连续登录失败而锁定的账号。" in section(page, "gh-account-matters")
    AccessAttempt.objects.create(
        username="grassroots_cadre", ip_address="10.0.0.8", user_agent="", get_data="", post_data="", http_accept="",
        path_info="/admin/login/", failures_since_start=6,
    )  # fmt: skip
    matters = section(page_of(login, "secadmin"), "gh-account-matters")
    assert "grassroots_cadre" in matters and "打开账号页面，点击“解除登录锁定”。" in matters
