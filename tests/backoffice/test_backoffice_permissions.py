"""Who may open which back-office page: every route of the back office (namespace "admin") against every role.

The table below lists every URL name the resolver knows under /admin/ (our own pages, Django's and unfold's pages,
and each registered model's list, add, change, delete, history, export and detail-action pages) with the status a GET
answers for each role, on an object inside the role's scope. A second, smaller table gives the answer for the same
object pages on an object outside a cadre's subtree (404: missing and out-of-scope look the same; 405 for the
POST-only addresses, which answer a GET before any lookup).

The completeness check fails when the resolver knows a back-office URL name the table does not list, or the table lists
one that no longer exists, naming it: a new page cannot be added without deciding who may open it.

Statuses: 200 the page; 403 the role may not; 404 missing or out of scope; 405 a POST-only address (every one answers
a GET so, through Django's require_POST, before looking anything up); "→name" a redirect to the back office's page of
that name (for an object page: the same object's). Only GETs are sent; the data is the small demo
federation, built once for the module and rolled back at the end.
"""

import re
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from gonghui.accounts.models import User
from gonghui.backoffice.site import backoffice_site
from tests.site.factories import demo_world

pytestmark = pytest.mark.django_db

# The demo's sign-in of each role (gonghui/demo/logins.py): cadres at the city, a district (SZ-GS), a town under it
# (SZ-GS-T01) and a grassroots union under that (SZ-GS-T01-E001); the three administrators at the city.
ROLES = {
    "system_admin": "xitong_admin",
    "security_admin": "anquan_admin",
    "audit_admin": "shenji_admin",
    "city_cadre": "shi_ganbu",
    "district_cadre": "qu_ganbu",
    "town_cadre": "zhen_ganbu",
    "grassroots_cadre": "jiceng_ganbu",
}
COLUMNS = tuple(ROLES)
# The grassroots union of the demo's grassroots cadre: inside every role's scope.
UNION = "SZ-GS-T01-E001"
# A district outside the district, town and grassroots cadres' subtrees.
OTHER_DISTRICT = "SZ-WZ"


def every(answer):
    """The same answer for all seven roles."""
    return (answer,) * len(COLUMNS)


# url name -> what a GET answers, for each role in COLUMNS' order, on an object inside the role's scope.
# fmt: off
TABLE = {
    #                                            sys  sec  aud city dist town grass
    "accounts_apitoken_add":                    (200, 403, 403, 403, 403, 403, 403),
    "accounts_apitoken_change":                 (200, 403, 403, 403, 403, 403, 403),
    "accounts_apitoken_changelist":             (200, 403, 403, 403, 403, 403, 403),
    "accounts_apitoken_delete":                 (403, 403, 403, 403, 403, 403, 403),
    "accounts_apitoken_export_list":            (200, 403, 403, 403, 403, 403, 403),
    "accounts_apitoken_history":                (200, 404, 404, 404, 404, 404, 404),
    "accounts_apitoken_revoke":                 (200, 403, 403, 403, 403, 403, 403),
    "accounts_user_add":                        (200, 200, 403, 403, 403, 403, 403),
    "accounts_user_approve_role":               (200, 403, 403, 403, 403, 403, 403),
    "accounts_user_change":                     (200, 200, 403, 403, 403, 403, 403),
    "accounts_user_changelist":                 (200, 200, 403, 403, 403, 403, 403),
    "accounts_user_delete":                     (403, 403, 403, 403, 403, 403, 403),
    "accounts_user_export_list":                (200, 200, 403, 403, 403, 403, 403),
    "accounts_user_history":                    (200, 200, 404, 404, 404, 404, 404),
    "accounts_user_reset_password":             (403, 200, 403, 403, 403, 403, 403),
    "accounts_user_reset_second_factor":        (403, 200, 403, 403, 403, 403, 403),
    "accounts_user_toggle_active":              (200, 200, 403, 403, 403, 403, 403),
    "accounts_user_unlock":                     (403, 200, 403, 403, 403, 403, 403),
    "app_list":                                 (404, 404, 404, 200, 200, 200, 200),
    "audit_auditevent_add":                     (403, 403, 403, 403, 403, 403, 403),
    "audit_auditevent_change":                  (403, 403, 200, 403, 403, 403, 403),
    "audit_auditevent_changelist":              (403, 403, 200, 403, 403, 403, 403),
    "audit_auditevent_delete":                  (403, 403, 403, 403, 403, 403, 403),
    "audit_auditevent_export":                  (405, 405, 405, 405, 405, 405, 405),
    "audit_auditevent_history":                 (404, 404, 200, 404, 404, 404, 404),
    "autocomplete":                             (403, 403, 403, 403, 403, 403, 403),
    "campaign_detail":                          (403, 403, 403, 200, 200, 200, 200),
    "campaign_new":                             (403, 403, 403, 200, 200, 200, 403),
    "case_attachment":                          (403, 403, 403, 200, 200, 200, 200),
    "case_callbacks":                           (403, 403, 403, 200, 200, 200, 200),
    "case_detail":                              (403, 403, 403, 200, 200, 200, 200),
    "case_new":                                 (403, 403, 403, 200, 200, 200, 200),
    "casework_carecampaign_add":                every("→campaign_new"),
    "casework_carecampaign_change":             every("→campaign_detail"),
    "casework_carecampaign_changelist":         (403, 403, 403, 200, 200, 200, 200),
    "casework_carecampaign_delete":             (403, 403, 403, 403, 403, 403, 403),
    "casework_carecampaign_export_list":        (403, 403, 403, 200, 200, 200, 200),
    "casework_carecampaign_history":            (404, 404, 404, 200, 200, 200, 200),
    "casework_hardshipfile_add":                every("→hardship_file_new"),
    "casework_hardshipfile_change":             every("→hardship_file_detail"),
    "casework_hardshipfile_changelist":         (403, 403, 403, 200, 200, 200, 200),
    "casework_hardshipfile_delete":             (403, 403, 403, 403, 403, 403, 403),
    "casework_hardshipfile_export_list":        (403, 403, 403, 200, 200, 200, 200),
    "casework_hardshipfile_history":            (404, 404, 404, 200, 200, 200, 200),
    "casework_insuranceenrolment_add":          (403, 403, 403, 403, 403, 403, 403),
    "casework_insuranceenrolment_change":       (403, 403, 403, 200, 200, 200, 200),
    "casework_insuranceenrolment_changelist":   (403, 403, 403, 200, 200, 200, 200),
    "casework_insuranceenrolment_delete":       (403, 403, 403, 403, 403, 403, 403),
    "casework_insuranceenrolment_export_list":  (403, 403, 403, 200, 200, 200, 200),
    "casework_insuranceenrolment_history":      (404, 404, 404, 200, 200, 200, 200),
    "casework_insuranceplan_add":               every("→plan_new"),
    "casework_insuranceplan_change":            every("→plan_detail"),
    "casework_insuranceplan_changelist":        (403, 403, 403, 200, 200, 200, 200),
    "casework_insuranceplan_delete":            (403, 403, 403, 403, 403, 403, 403),
    "casework_insuranceplan_export_list":       (403, 403, 403, 200, 200, 200, 200),
    "casework_insuranceplan_history":           (404, 404, 404, 200, 200, 200, 200),
    "casework_servicecase_add":                 every("→case_new"),
    "casework_servicecase_change":              every("→case_detail"),
    "casework_servicecase_changelist":          (403, 403, 403, 200, 200, 200, 200),
    "casework_servicecase_delete":              (403, 403, 403, 403, 403, 403, 403),
    "casework_servicecase_export_list":         (403, 403, 403, 200, 200, 200, 200),
    "casework_servicecase_history":             (404, 404, 404, 200, 200, 200, 200),
    "casework_studentgrant_add":                (403, 403, 403, 403, 403, 403, 403),
    "casework_studentgrant_change":             (403, 403, 403, 200, 200, 200, 200),
    "casework_studentgrant_changelist":         (403, 403, 403, 200, 200, 200, 200),
    "casework_studentgrant_delete":             (403, 403, 403, 403, 403, 403, 403),
    "casework_studentgrant_export_list":        (403, 403, 403, 200, 200, 200, 200),
    "casework_studentgrant_history":            (404, 404, 404, 200, 200, 200, 200),
    "correction_detail":                        (403, 403, 403, 200, 200, 200, 200),
    "demand_import":                            (403, 403, 403, 200, 200, 200, 200),
    "hardship_aid_pay":                         (403, 403, 403, 200, 200, 200, 200),
    "hardship_aid_rules":                       (403, 403, 403, 200, 200, 200, 200),
    "hardship_approval_detail":                 (403, 403, 403, 200, 200, 200, 200),
    "hardship_approvals":                       (403, 403, 403, 200, 200, 200, 200),
    "hardship_file_card":                       (403, 403, 403, 200, 200, 200, 200),
    "hardship_file_detail":                     (403, 403, 403, 200, 200, 200, 200),
    "hardship_file_new":                        (403, 403, 403, 200, 200, 200, 200),
    "index":                                    (200, 200, 200, 200, 200, 200, 200),
    "job_download":                             (404, 403, 403, 404, 404, 404, 404),
    "job_status":                               (404, 403, 403, 200, 200, 200, 200),
    "jobs_jobrun_add":                          (403, 403, 403, 403, 403, 403, 403),
    "jobs_jobrun_change":                       every("→job_status"),
    "jobs_jobrun_changelist":                   (200, 403, 403, 200, 200, 200, 200),
    "jobs_jobrun_delete":                       (403, 403, 403, 403, 403, 403, 403),
    "jobs_jobrun_export_list":                  (200, 403, 403, 200, 200, 200, 200),
    "jobs_jobrun_history":                      (404, 404, 404, 200, 200, 200, 200),
    "join_application_detail":                  (403, 403, 403, 200, 200, 200, 200),
    "join_application_print":                   (403, 403, 403, 200, 200, 200, 200),
    "jsi18n":                                   (200, 200, 200, 200, 200, 200, 200),
    "login":                                    every("→index"),
    "logout":                                   (405, 405, 405, 405, 405, 405, 405),
    "member_card":                              (403, 403, 403, 200, 200, 200, 200),
    "member_correct":                           (403, 403, 403, 200, 200, 200, 200),
    "member_detail":                            (403, 403, 403, 200, 200, 200, 200),
    "member_enrol":                             (403, 403, 403, 200, 200, 200, 200),
    "member_export":                            (405, 405, 405, 405, 405, 405, 405),
    "member_print":                             (403, 403, 403, 200, 200, 200, 200),
    "member_quality":                           (403, 403, 403, 200, 200, 200, 200),
    "member_rectification_export":              (405, 405, 405, 405, 405, 405, 405),
    "member_search":                            (403, 403, 403, 200, 200, 200, 200),
    "members_correctionrequest_add":            (403, 403, 403, 403, 403, 403, 403),
    "members_correctionrequest_change":         every("→correction_detail"),
    "members_correctionrequest_changelist":     (403, 403, 403, 200, 200, 200, 200),
    "members_correctionrequest_delete":         (403, 403, 403, 403, 403, 403, 403),
    "members_correctionrequest_export_list":    (403, 403, 403, 200, 200, 200, 200),
    "members_correctionrequest_history":        (404, 404, 404, 200, 200, 200, 200),
    "members_declaredtotal_add":                (403, 403, 403, 200, 200, 200, 200),
    "members_declaredtotal_change":             (404, 404, 404, 404, 404, 404, 404),
    "members_declaredtotal_changelist":         (403, 403, 403, 200, 200, 200, 200),
    "members_declaredtotal_delete":             (403, 403, 403, 403, 403, 403, 403),
    "members_declaredtotal_export_list":        (403, 403, 403, 200, 200, 200, 200),
    "members_declaredtotal_history":            (404, 404, 404, 200, 200, 200, 200),
    "members_joinapplication_add":              every("→member_enrol"),
    "members_joinapplication_change":           every("→join_application_detail"),
    "members_joinapplication_changelist":       (403, 403, 403, 200, 200, 200, 200),
    "members_joinapplication_delete":           (403, 403, 403, 403, 403, 403, 403),
    "members_joinapplication_export_list":      (403, 403, 403, 200, 200, 200, 200),
    "members_joinapplication_history":          (404, 404, 404, 200, 200, 200, 200),
    "members_membership_add":                   every("→member_enrol"),
    "members_membership_change":                every("→member_detail"),
    "members_membership_changelist":            (403, 403, 403, 200, 200, 200, 200),
    "members_membership_delete":                (403, 403, 403, 403, 403, 403, 403),
    "members_membership_export_list":           (403, 403, 403, 200, 200, 200, 200),
    "members_membership_history":               (404, 404, 404, 200, 200, 200, 200),
    "members_transferrequest_add":              (403, 403, 403, 403, 403, 403, 403),
    "members_transferrequest_change":           every("→transfer_detail"),
    "members_transferrequest_changelist":       (403, 403, 403, 200, 200, 200, 200),
    "members_transferrequest_delete":           (403, 403, 403, 403, 403, 403, 403),
    "members_transferrequest_export_list":      (403, 403, 403, 200, 200, 200, 200),
    "members_transferrequest_history":          (404, 404, 404, 200, 200, 200, 200),
    "org_import":                               (200, 403, 403, 200, 200, 200, 403),
    "org_import_template":                      (200, 403, 403, 200, 200, 200, 403),
    "org_join_code":                            (200, 200, 200, 200, 200, 200, 200),
    "org_join_code_png":                        (200, 200, 200, 200, 200, 200, 200),
    "org_tree":                                 (200, 200, 200, 200, 200, 200, 200),
    "org_tree_children":                        (200, 200, 200, 200, 200, 200, 200),
    "org_tree_search":                          (200, 200, 200, 200, 200, 200, 200),
    "orgs_employer_add":                        (200, 403, 403, 200, 200, 200, 403),
    "orgs_employer_change":                     (200, 403, 403, 200, 200, 200, 200),
    "orgs_employer_changelist":                 (200, 403, 403, 200, 200, 200, 200),
    "orgs_employer_delete":                     (403, 403, 403, 403, 403, 403, 403),
    "orgs_employer_export_list":                (403, 403, 403, 200, 200, 200, 200),
    "orgs_employer_history":                    (200, 404, 404, 200, 200, 200, 200),
    "orgs_organisation_add":                    (200, 403, 403, 200, 200, 200, 403),
    "orgs_organisation_change":                 (200, 200, 200, 200, 200, 200, 200),
    "orgs_organisation_changelist":             (200, 200, 200, 200, 200, 200, 200),
    "orgs_organisation_delete":                 (403, 403, 403, 403, 403, 403, 403),
    "orgs_organisation_dissolve":               (200, 403, 403, 200, 200, 200, 403),
    "orgs_organisation_export_list":            (403, 403, 403, 200, 200, 200, 200),
    "orgs_organisation_export_roster":          (403, 403, 403, 200, 200, 200, 200),
    "orgs_organisation_history":                (200, 200, 200, 200, 200, 200, 200),
    "orgs_organisation_join_code":              every("→org_join_code"),
    "orgs_organisation_merge_into":             (200, 403, 403, 200, 200, 200, 403),
    "orgs_organisation_move_subtree":           (200, 403, 403, 200, 200, 200, 403),
    "orgs_organisation_open_in_tree":           every("→org_tree"),
    "orgs_organisation_reveal_phone":           (403, 403, 403, 200, 200, 200, 200),
    "otp_setup":                                (200, 200, 200, 200, 200, 200, 200),
    "otp_verify":                               every("→index"),
    "password_change":                          (200, 200, 200, 200, 200, 200, 200),
    "password_change_done":                     (200, 200, 200, 200, 200, 200, 200),
    "plan_detail":                              (403, 403, 403, 200, 200, 200, 200),
    "plan_new":                                 (403, 403, 403, 200, 200, 200, 403),
    "roster_import":                            (403, 403, 403, 200, 200, 200, 200),
    "roster_import_cancel":                     (405, 405, 405, 405, 405, 405, 405),
    "roster_import_declared":                   (404, 403, 403, *4 * ("→roster_import_detail",)),
    "roster_import_detail":                     (404, 403, 403, 200, 200, 200, 200),
    "roster_import_from_preview":               (405, 405, 405, 405, 405, 405, 405),
    "roster_import_template":                   (403, 403, 403, 200, 200, 200, 200),
    "roster_import_transfers":                  (405, 405, 405, 405, 405, 405, 405),
    "search":                                   (200, 200, 200, 200, 200, 200, 200),
    "service_figures":                          (403, 403, 403, 200, 200, 200, 200),
    "station_coverage":                         (403, 403, 403, 200, 200, 200, 200),
    "station_import":                           (403, 403, 403, 200, 200, 200, 200),
    "stations_station_add":                     (403, 403, 403, 200, 200, 200, 200),
    # The demo's grassroots union manages no station: its cadre is shown the town's, outside its scope.
    "stations_station_change":                  (403, 403, 403, 200, 200, 200, 404),
    "stations_station_changelist":              (403, 403, 403, 200, 200, 200, 200),
    "stations_station_delete":                  (403, 403, 403, 403, 403, 403, 403),
    "stations_station_export_list":             (403, 403, 403, 200, 200, 200, 200),
    "stations_station_history":                 (404, 404, 404, 200, 200, 200, 404),  # the same station
    "stats_dashboard":                          (403, 403, 403, 200, 200, 200, 200),
    "stats_report":                             (403, 403, 403, 200, 200, 200, 200),
    "theme_css":                                (200, 200, 200, 200, 200, 200, 200),
    "transfer_detail":                          (403, 403, 403, 200, 200, 200, 200),
    "union_directory":                          (200, 200, 200, 200, 200, 200, 200),
}

# url name -> what a GET answers on an object in the other district, for each role in OUTSIDE_COLUMNS' order.
OUTSIDE = {
    #                                  dist town grass
    "case_attachment":                  (404, 404, 404),
    "case_detail":                      (404, 404, 404),
    "casework_servicecase_change":      3 * ("→case_detail",),
    "casework_servicecase_delete":      (403, 403, 403),
    "casework_servicecase_history":     (404, 404, 404),
    "job_download":                     (404, 404, 404),
    "job_status":                       (404, 404, 404),
    "jobs_jobrun_change":               ("→job_status", "→job_status", "→job_status"),
    "jobs_jobrun_delete":               (403, 403, 403),
    "jobs_jobrun_history":              (404, 404, 404),
    "join_application_detail":          (404, 404, 404),
    "join_application_print":           (404, 404, 404),
    "member_card":                      (404, 404, 404),
    "member_correct":                   (404, 404, 404),
    "member_detail":                    (404, 404, 404),
    "member_print":                     (404, 404, 404),
    "members_declaredtotal_change":     (404, 404, 404),
    "members_declaredtotal_delete":     (403, 403, 403),
    "members_declaredtotal_history":    (404, 404, 404),
    "members_joinapplication_change":   3 * ("→join_application_detail",),
    "members_joinapplication_delete":   (403, 403, 403),
    "members_joinapplication_history":  (404, 404, 404),
    "members_membership_change":        ("→member_detail", "→member_detail", "→member_detail"),
    "members_membership_delete":        (403, 403, 403),
    "members_membership_history":       (404, 404, 404),
    "members_transferrequest_change":   ("→transfer_detail", "→transfer_detail", "→transfer_detail"),
    "members_transferrequest_delete":   (403, 403, 403),
    "members_transferrequest_history":  (404, 404, 404),
    "org_join_code":                    (404, 404, 404),
    "org_join_code_png":                (404, 404, 404),
    "org_tree_children":                (404, 404, 404),
    "orgs_employer_change":             (404, 404, 404),
    "orgs_employer_delete":             (403, 403, 403),
    "orgs_employer_history":            (404, 404, 404),
    "orgs_organisation_change":         (404, 404, 404),
    "orgs_organisation_delete":         (403, 403, 403),
    "orgs_organisation_dissolve":       (404, 404, 403),
    "orgs_organisation_export_roster":  (404, 404, 404),
    "orgs_organisation_history":        (404, 404, 404),
    "orgs_organisation_join_code":      (404, 404, 404),
    "orgs_organisation_merge_into":     (404, 404, 403),
    "orgs_organisation_move_subtree":   (404, 404, 403),
    "orgs_organisation_open_in_tree":   (404, 404, 404),
    "orgs_organisation_reveal_phone":   (404, 404, 404),
    "roster_import_cancel":             (405, 405, 405),
    "roster_import_declared":           (404, 404, 404),
    "roster_import_detail":             (404, 404, 404),
    "roster_import_from_preview":       (405, 405, 405),
    "roster_import_transfers":          (405, 405, 405),
    "stations_station_change":          (404, 404, 404),
    "stations_station_delete":          (403, 403, 403),
    "stations_station_history":         (404, 404, 404),
    "transfer_detail":                  (404, 404, 404),
}
# fmt: on


# --- the routes ---------------------------------------------------------------------------------------------------


def admin_routes() -> dict[str, str]:
    """{url name: route} of every named pattern in the back office's namespace, from the resolver."""
    found: dict[str, str] = {}

    def walk(patterns, prefix, namespace):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern), p.namespace or namespace)
            elif isinstance(p, URLPattern) and namespace == "admin" and p.name:
                found[p.name] = prefix + str(p.pattern)

    walk(get_resolver().url_patterns, "", None)
    return found


def route_params(route: str) -> list[str]:
    """The parameters of a route, path converters (<str:job_id>) and regular-expression groups ((?P<app_label>…))."""
    return [a or b for a, b in re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", route)]


# The model behind each id parameter of our own pages.
PARAM_MODELS = {
    "membership_id": "members.Membership",
    "application_id": "members.JoinApplication",
    "transfer_id": "members.TransferRequest",
    "correction_id": "members.CorrectionRequest",
    "org_id": "orgs.Organisation",
    "job_id": "jobs.JobRun",
    "approval_id": "casework.HardshipApproval",
    "aid_id": "casework.HardshipAid",
    "file_id": "casework.HardshipFile",
    "case_id": "casework.ServiceCase",
    "attachment_id": "casework.CaseAttachment",
    "plan_id": "casework.InsurancePlan",
    "campaign_id": "casework.CareCampaign",
}
# Models the back office shows on pages of its own only: their organisation, for choosing an object by subtree.
UNREGISTERED_ORG_FIELD = {
    "casework.HardshipApproval": "org",
    "casework.HardshipAid": "file__org",
    "casework.CaseAttachment": "case__org",
}


def model_of(route: str, params: list[str]):
    if params == ["object_id"]:
        app_label, model_name = re.match(r"admin/(\w+)/(\w+)/", route).groups()
        return apps.get_model(app_label, model_name)
    return apps.get_model(PARAM_MODELS[params[0]])


# --- choosing objects ---------------------------------------------------------------------------------------------


def _admin_queryset(model, username: str):
    """What the model's back-office list shows the account (None when the role may not see the list)."""
    admin = backoffice_site._registry.get(model)
    if admin is None:
        return None
    request = RequestFactory().get("/admin/")
    request.user = User.objects.get(username=username)
    if not admin.has_view_permission(request):
        return None
    return admin.get_queryset(request)


def _in_subtree(model, path: str):
    from gonghui.orgs.models import Organisation

    label = f"{model._meta.app_label}.{model.__name__}"
    if model is Organisation:
        return Organisation.objects.filter(path__startswith=path)
    if label in UNREGISTERED_ORG_FIELD:
        return model.objects.filter(**{f"{UNREGISTERED_ORG_FIELD[label]}__path__startswith": path})
    return None


def object_inside(model, role: str):
    """An object of the model inside the role's scope: the demo's grassroots union, or what the role's own list
    shows first (jobs: the role's own), or, for a role that may not see the model, what the narrowest cadre sees."""
    from gonghui.accounts.models import ApiToken
    from gonghui.orgs.models import Organisation

    union = Organisation.objects.get(code=UNION)
    if model is Organisation:
        return union
    if model is User:
        return User.objects.get(username=ROLES["grassroots_cadre"])
    if model is ApiToken:
        return ApiToken.objects.order_by("pk").first()
    subtree = _in_subtree(model, union.path)
    if subtree is not None:
        return subtree.order_by("pk").first()
    for username in [ROLES[role]] + [ROLES[r] for r in reversed(COLUMNS)]:
        shown = _admin_queryset(model, username)
        if shown is not None and shown.exists():
            return shown.order_by("pk").first()
    return None


def object_outside(model):
    """An object of the model in the other district: outside the district, town and grassroots cadres' scope."""
    from gonghui.orgs.models import Organisation, OrgType

    other = Organisation.objects.get(code=OTHER_DISTRICT)
    if model is Organisation:
        return Organisation.objects.filter(path__startswith=other.path, org_type=OrgType.GRASSROOTS).order_by("pk")[0]
    subtree = _in_subtree(model, other.path)
    if subtree is not None:
        return subtree.order_by("pk").first()
    city, district = _admin_queryset(model, ROLES["city_cadre"]), _admin_queryset(model, ROLES["district_cadre"])
    if city is None or district is None:
        return None
    return city.exclude(pk__in=district.values("pk")).order_by("pk").first()


def add_jobs_and_an_attachment():
    """A roster check (a job) started by each cadre, whose job pages only its starter sees, an attachment on a service
    case of the demo's grassroots union, and a case with an attachment in the other district."""
    from gonghui.accounts.actors import actor_for_user
    from gonghui.casework.models import ServiceCase
    from gonghui.casework.services import Consent, case_attach, case_enter
    from gonghui.imports.roster import roster_import_request, roster_import_run
    from gonghui.members.models import Membership
    from gonghui.orgs.models import Organisation

    union = Organisation.objects.get(code=UNION)
    for role in ("city_cadre", "district_cadre", "town_cadre"):
        actor = actor_for_user(User.objects.get(username=ROLES[role]), ip="127.0.0.1")
        job = roster_import_request(
            actor=actor,
            org=union,
            filename="名册.csv",
            content="姓名,证件号码\n".encode(),
            mode="dry-run",
            enqueue=lambda job_id: None,
        )
        roster_import_run(str(job.id))
    pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    cadre = actor_for_user(User.objects.get(username=ROLES["grassroots_cadre"]), ip="127.0.0.1")
    case = ServiceCase.objects.filter(org=union).order_by("pk").first()
    case_attach(actor=cadre, case=case, name="证明.pdf", content=pdf)
    # A case with an attachment in the other district, entered by the city's cadre for one of its members.
    city = actor_for_user(User.objects.get(username=ROLES["city_cadre"]), ip="127.0.0.1")
    other = Organisation.objects.get(code=OTHER_DISTRICT)
    membership = (
        Membership.objects.filter(org__path__startswith=other.path, status="active", person__service_cases=None)
        .order_by("pk")
        .first()
    )
    form = {"summary": "公司拖欠三个月工资", "category": "wages", "counterparty": "木渎光电有限公司"}
    wz_case = case_enter(actor=city, membership=membership, kind="legal", data=form, consent=Consent())
    case_attach(actor=city, case=wz_case, name="证明.pdf", content=pdf)


# --- requesting -----------------------------------------------------------------------------------------------------


def answer(response) -> int | str:
    if response.status_code != 302:
        return response.status_code
    match = resolve(urlsplit(response["Location"]).path)
    return f"→{match.url_name}" if match.namespace == "admin" else f"→{response['Location']}"


@pytest.fixture(scope="module")
def answers(django_db_setup, django_db_blocker, tmp_path_factory):
    """{"inside": {(url name, role): answer}, "outside": {(url name, role): answer}}, each route requested once per
    role (and once more per cadre below the city on an object outside its subtree)."""
    routes = admin_routes()
    found = {"inside": {}, "outside": {}}
    with django_db_blocker.unblock(), demo_world(tmp_path_factory.mktemp("media")):
        add_jobs_and_an_attachment()
        for role, username in ROLES.items():
            client = Client()
            client.force_login(User.objects.get(username=username))
            for name, route in routes.items():
                params = route_params(route)
                if not params:
                    found["inside"][name, role] = answer(client.get(reverse(f"admin:{name}")))
                    continue
                if params == ["app_label"]:
                    found["inside"][name, role] = answer(client.get(reverse(f"admin:{name}", args=["members"])))
                    continue
                if params == ["report"]:
                    found["inside"][name, role] = answer(client.get(reverse(f"admin:{name}", args=["members"])))
                    continue
                model = model_of(route, params)
                inside = object_inside(model, role)
                found["inside"][name, role] = answer(client.get(reverse(f"admin:{name}", args=[inside.pk])))
                if role in OUTSIDE_COLUMNS:
                    outside = object_outside(model)
                    if outside is not None:
                        url = reverse(f"admin:{name}", args=[outside.pk])
                        found["outside"][name, role] = answer(client.get(url))
    return found


OUTSIDE_COLUMNS = ("district_cadre", "town_cadre", "grassroots_cadre")


def _mismatches(found: dict, table: dict, columns: tuple[str, ...]) -> list[str]:
    wrong = []
    for name, expected in table.items():
        for role, want in zip(columns, expected, strict=True):
            if (name, role) not in found:
                continue
            if found[name, role] != want:
                wrong.append(f"{name} as {role}: {found[name, role]!r}, the table says {want!r}")
    return wrong


def test_the_table_lists_every_back_office_route_and_no_other():
    routes = set(admin_routes())
    assert sorted(routes - set(TABLE)) == [], "back-office URL names the table does not list"
    assert sorted(set(TABLE) - routes) == [], "the table lists URL names the resolver no longer knows"
    assert sorted(set(OUTSIDE) - routes) == []
    assert all(len(row) == len(COLUMNS) for row in TABLE.values())
    assert all(len(row) == len(OUTSIDE_COLUMNS) for row in OUTSIDE.values())


def test_every_route_answers_each_role_as_the_table_says(answers):
    assert len(answers["inside"]) == len(TABLE) * len(COLUMNS)
    assert _mismatches(answers["inside"], TABLE, COLUMNS) == []


def test_a_cadre_gets_404_for_an_object_outside_its_subtree(answers):
    # Every object page whose model the other district holds in the demo was requested (the table lists them all);
    # the demo's pending transfers do not always leave the district, so those rows are checked when they are there.
    requested = {name for name, _ in answers["outside"]}
    assert sorted(requested - set(OUTSIDE)) == []
    assert {
        "member_detail",
        "orgs_organisation_change",
        "case_detail",
        "case_attachment",
        "org_tree_children",
    } <= requested
    assert _mismatches(answers["outside"], OUTSIDE, OUTSIDE_COLUMNS) == []
    # Outside its subtree a page never shows anything: it is refused (404, or 403 for a page the role may never
    # open, or 405 for a POST-only address, which answers a GET before looking anything up) or is a redirect to the
    # object's page of the back office, which answers 404 itself.
    assert {answer for row in OUTSIDE.values() for answer in row if isinstance(answer, int)} == {403, 404, 405}
    redirects = {
        (name, role, answer.removeprefix("→"))
        for name, row in OUTSIDE.items()
        for role, answer in zip(OUTSIDE_COLUMNS, row, strict=True)
        if isinstance(answer, str)
    }
    assert redirects and all(OUTSIDE[target][OUTSIDE_COLUMNS.index(role)] == 404 for _, role, target in redirects)
