"""Roles and what each may do. The one table every interface and service consults.

The three administrators (三员) are separated: the system administrator manages accounts and organisations but
cannot read the audit trail; the security administrator manages lockouts and second factors; the audit
administrator reads the audit trail and changes nothing.
"""

from enum import StrEnum


class Role(StrEnum):
    GRASSROOTS_CADRE = "grassroots_cadre"
    UPPER_CADRE = "upper_cadre"
    SYSTEM_ADMIN = "system_admin"
    SECURITY_ADMIN = "security_admin"
    AUDIT_ADMIN = "audit_admin"
    MEMBER = "member"


ROLE_LABELS: dict[Role, str] = {
    Role.GRASSROOTS_CADRE: "基层工会干部",
    Role.UPPER_CADRE: "上级工会干部",
    Role.SYSTEM_ADMIN: "系统管理员",
    Role.SECURITY_ADMIN: "安全管理员",
    Role.AUDIT_ADMIN: "审计管理员",
    Role.MEMBER: "会员",
}

CADRE_ROLES = frozenset({Role.GRASSROOTS_CADRE, Role.UPPER_CADRE})
BACKOFFICE_ROLES = frozenset(set(ROLE_LABELS) - {Role.MEMBER})


class Perm(StrEnum):
    ORGS_VIEW = "orgs.view"
    ORGS_EDIT = "orgs.edit"  # change the details of an organisation in scope
    ORGS_STRUCTURE = "orgs.structure"  # create, move, dissolve, merge organisations below the scope root
    EMPLOYERS_VIEW = "employers.view"
    EMPLOYERS_EDIT = "employers.edit"
    ACCOUNTS_VIEW = "accounts.view"
    ACCOUNTS_MANAGE = "accounts.manage"  # create cadre accounts, assign org and role, deactivate
    SECURITY_MANAGE = "security.manage"  # unlock lockouts, reset second factors, reset passwords
    API_TOKENS_MANAGE = "api_tokens.manage"
    AUDIT_VIEW = "audit.view"
    JOBS_VIEW = "jobs.view"
    EXPORT = "export"
    MEMBERS_VIEW = "members.view"  # the roster of the subtree, personal numbers masked
    MEMBERS_MANAGE = "members.manage"  # enrol, decide applications and transfers, leave/reserve/cancel, correct
    MEMBERS_UNMASK = "members.unmask"  # reveal one record's document number or phone, with a stated reason
    CARDS_VERIFY = "cards.verify"  # check an e-member card's QR token (stations, partners)
    MEMBERS_IMPORT = "members.import"  # import a roster file into a grassroots union in scope
    CASES_VIEW = "cases.view"  # service centre: cases, hardship files, plans, campaigns and their figures
    CASES_MANAGE = "cases.manage"  # handle cases, files, enrolments, visits and callbacks in scope
    CASES_CONFIGURE = "cases.configure"  # set up mutual-insurance plans and care campaigns for the subtree
    STATS_VIEW = "stats.view"  # the dashboard, statistics tables and the annual summary of the subtree (aggregates)
    STATIONS_VIEW = "stations.view"  # the stations managed in the subtree and its 15-minute circle
    STATIONS_MANAGE = "stations.manage"  # register, change, import stations and demand points in the subtree


ROLE_PERMS: dict[Role, frozenset[Perm]] = {
    Role.GRASSROOTS_CADRE: frozenset(
        {
            Perm.ORGS_VIEW,
            Perm.ORGS_EDIT,
            Perm.EMPLOYERS_VIEW,
            Perm.JOBS_VIEW,
            Perm.EXPORT,
            Perm.MEMBERS_VIEW,
            Perm.MEMBERS_MANAGE,
            Perm.MEMBERS_UNMASK,
            Perm.MEMBERS_IMPORT,
            Perm.CARDS_VERIFY,
            Perm.CASES_VIEW,
            Perm.CASES_MANAGE,
            Perm.STATS_VIEW,
            Perm.STATIONS_VIEW,
            Perm.STATIONS_MANAGE,
        }
    ),
    Role.UPPER_CADRE: frozenset(
        {
            Perm.ORGS_VIEW,
            Perm.ORGS_EDIT,
            Perm.ORGS_STRUCTURE,
            Perm.EMPLOYERS_VIEW,
            Perm.EMPLOYERS_EDIT,
            Perm.JOBS_VIEW,
            Perm.EXPORT,
            Perm.MEMBERS_VIEW,
            Perm.MEMBERS_MANAGE,
            Perm.MEMBERS_UNMASK,
            Perm.MEMBERS_IMPORT,
            Perm.CARDS_VERIFY,
            Perm.CASES_VIEW,
            Perm.CASES_MANAGE,
            Perm.CASES_CONFIGURE,
            Perm.STATS_VIEW,
            Perm.STATIONS_VIEW,
            Perm.STATIONS_MANAGE,
        }
    ),
    Role.SYSTEM_ADMIN: frozenset(
        {
            Perm.ORGS_VIEW,
            Perm.ORGS_EDIT,
            Perm.ORGS_STRUCTURE,
            Perm.EMPLOYERS_VIEW,
            Perm.EMPLOYERS_EDIT,
            Perm.ACCOUNTS_VIEW,
            Perm.ACCOUNTS_MANAGE,
            Perm.API_TOKENS_MANAGE,
            Perm.JOBS_VIEW,
        }
    ),
    Role.SECURITY_ADMIN: frozenset({Perm.ORGS_VIEW, Perm.ACCOUNTS_VIEW, Perm.SECURITY_MANAGE}),
    Role.AUDIT_ADMIN: frozenset({Perm.ORGS_VIEW, Perm.AUDIT_VIEW}),
    Role.MEMBER: frozenset(),
}

# External systems act through API tokens: read the org tree and employers, and verify e-member cards. They never
# read the member roster; they may read the aggregate figures of their scope (a provincial platform, a big screen)
# and its stations and 15-minute circle.
# A token may also be allowed to import roster files (a personnel system sending its
# roster), which adds exactly MEMBERS_IMPORT.
API_TOKEN_PERMS = frozenset(
    {Perm.ORGS_VIEW, Perm.EMPLOYERS_VIEW, Perm.CARDS_VERIFY, Perm.STATS_VIEW, Perm.STATIONS_VIEW}
)
API_TOKEN_IMPORT_PERMS = API_TOKEN_PERMS | {Perm.MEMBERS_IMPORT}


def role_label(role: str) -> str:
    try:
        return ROLE_LABELS[Role(role)]
    except ValueError:
        return role
