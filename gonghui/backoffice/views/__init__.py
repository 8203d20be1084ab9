"""The back office's own pages (beyond the model lists of backoffice/admin/), one module per domain, like the
admin modules: workbench, accounts (sign-in, second factor, password), orgs (the tree), jobs; helpers holds what
they share. Thin: each builds the actor, calls selectors or services, renders."""

from gonghui.backoffice.views.accounts import audit_login_attempt, otp_setup, otp_verify, password_change
from gonghui.backoffice.views.helpers import confirm_page
from gonghui.backoffice.views.jobs import job_download, job_status
from gonghui.backoffice.views.orgs import org_tree, org_tree_children, org_tree_search
from gonghui.backoffice.views.workbench import workbench

__all__ = [
    "audit_login_attempt",
    "confirm_page",
    "job_download",
    "job_status",
    "org_tree",
    "org_tree_children",
    "org_tree_search",
    "otp_setup",
    "otp_verify",
    "password_change",
    "workbench",
]
