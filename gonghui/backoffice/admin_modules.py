"""Importing this module registers every admin module on the back-office site."""

from gonghui.backoffice.admin import accounts, audit, casework, jobs, members, orgs, stations  # noqa: F401
