"""The accounts' audit events (cadre accounts, sign-ins, API tokens), each writing one AuditEvent through
`audit.services.audit_record` inside the caller's transaction. The services decide when; this module alone decides
what the trail says: the object named, the organisation the event is filed under."""

from typing import Any

from gonghui.accounts.models import ApiToken, User
from gonghui.audit.models import AuditResult
from gonghui.audit.services import audit_record
from gonghui.common.actor import Actor


def account_event(actor: Actor, action: str, user: User, details: dict[str, Any]) -> None:
    """`account.create`, `.update`, `.login`, `.unlock`, ...: the account named by its username, filed under its
    organisation (none for an account without one)."""
    audit_record(
        actor=actor,
        action=action,
        object_type="account",
        object_id=user.id,
        object_label=user.username,
        object_org_path=user.org.path if user.org is not None else "",
        details=details,
    )


def login_failed(anonymous: Actor, *, username: str) -> None:
    """`account.login` failed: nobody is signed in; the account is named by what was typed."""
    audit_record(
        actor=anonymous,
        action="account.login",
        object_type="account",
        object_label=username,
        result=AuditResult.FAILED,
    )


def api_token_event(actor: Actor, action: str, token: ApiToken, details: dict[str, Any] | None = None) -> None:
    """`api_token.create` and `.revoke`: filed under the organisation the token acts for."""
    audit_record(
        actor=actor,
        action=action,
        object_type="api_token",
        object_id=token.id,
        object_label=token.name,
        object_org_path=token.org.path,
        details=details,
    )
