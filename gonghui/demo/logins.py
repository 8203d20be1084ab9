"""The demo federation's sign-ins, one per role at several levels. Shown on the login page only in demo mode."""

from dataclasses import dataclass
from datetime import date

# Meets the password policy (≥8 characters, 3 classes) and is not in the common-password list.
DEMO_PASSWORD = "Gonghui#2026"  # noqa: S105 (the published demo password)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    full_name: str
    role: str
    role_label: str
    org_code: str
    sees: str


DEMO_LOGINS = [
    DemoLogin("shi_ganbu", "王建国", "upper_cadre", "上级工会干部（市级）", "SZ", "全市所有组织"),
    DemoLogin("qu_ganbu", "李秀英", "upper_cadre", "上级工会干部（区级）", "SZ-GS", "姑苏区总工会及其下级"),
    DemoLogin("zhen_ganbu", "张伟", "upper_cadre", "上级工会干部（镇街级）", "SZ-GS-T01", "一个街道总工会及其下级"),
    DemoLogin("jiceng_ganbu", "刘芳", "grassroots_cadre", "基层工会干部", "SZ-GS-T01-E001", "本基层工会"),
    DemoLogin("xitong_admin", "陈明", "system_admin", "系统管理员", "SZ", "账号、组织（不能看审计日志）"),
    DemoLogin("anquan_admin", "杨静", "security_admin", "安全管理员", "SZ", "账号锁定、密码、两步验证"),
    DemoLogin("shenji_admin", "赵磊", "audit_admin", "审计管理员", "SZ", "审计日志（只读）"),
]


@dataclass(frozen=True)
class DemoMember:
    """A member of the demo federation for trying the portal: sign in with the phone (the demo shows the SMS code on
    the page), then confirm name and document number (核验身份) to see the e-member card."""

    phone: str
    name: str
    doc_number: str
    union_code: str
    joined_on: date


# A valid resident ID (checksum computed by python-stdnum) for a person born 1992-08-16 in 姑苏区.
DEMO_MEMBER = DemoMember(
    phone="13800138000",
    name="周晓梅",
    doc_number="320508199208162003",
    union_code="SZ-GS-T01-E001",
    joined_on=date(2016, 9, 1),
)
