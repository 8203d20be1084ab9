"""Who is acting: a signed-in account or an API token, with the subtree it may see.

Interfaces build an Actor at the edge and hand it to every selector and service; nothing below the interfaces
looks at `request.user`. Scope is the materialized path of the actor's organisation.
"""

from dataclasses import dataclass, field
from uuid import UUID

from gonghui.common.errors import PermissionDenied
from gonghui.common.roles import Perm


@dataclass(frozen=True)
class Actor:
    kind: str  # "user" | "token" | "system"
    id: UUID | None
    label: str  # username or token name, for the audit trail
    role: str
    org_id: UUID | None
    scope_path: str  # materialized path of the actor's organisation; "" only for the system actor
    perms: frozenset[Perm] = field(default_factory=frozenset)
    ip: str | None = None

    def can(self, perm: Perm) -> bool:
        return perm in self.perms

    def require(self, perm: Perm) -> None:
        if perm not in self.perms:
            raise PermissionDenied()

    def covers_path(self, path: str) -> bool:
        """True when `path` lies in the actor's subtree. Paths have fixed-width steps, so a prefix is a subtree."""
        return path.startswith(self.scope_path)


def system_actor(label: str = "system", *, perms: frozenset[Perm] | None = None) -> Actor:
    """The actor for management commands and jobs started by the platform itself; it sees the whole tree."""
    return Actor(
        kind="system",
        id=None,
        label=label,
        role="system",
        org_id=None,
        scope_path="",
        perms=perms if perms is not None else frozenset(Perm),
    )
