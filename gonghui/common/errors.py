"""Domain errors. Services raise them; interfaces turn them into a message (admin), a JSON error (API) or a page."""


class DomainError(Exception):
    """A request that the domain refuses. `message` is plain Chinese for the user; `code` is stable for the API."""

    code = "invalid"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.field = field


class ValidationFailed(DomainError):
    code = "validation_failed"
    status = 422

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        summary = "；".join(errors.values())
        super().__init__(summary)


class NotFound(DomainError):
    """Missing, or outside the actor's subtree: both look exactly the same to the caller."""

    code = "not_found"
    status = 404

    def __init__(self, message: str = "对象不存在或无权访问"):
        super().__init__(message)


class PermissionDenied(DomainError):
    """The object is visible to the actor, but the actor's role may not do this to it."""

    code = "permission_denied"
    status = 403

    def __init__(self, message: str = "当前角色无权执行此操作"):
        super().__init__(message)


class CaseMovedOn(DomainError):
    """The case changed state since the actor loaded it (another cadre acted first)."""

    code = "conflict"
    status = 409
