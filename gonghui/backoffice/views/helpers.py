"""What the back office's own pages share: the page frame, the confirmation page of a GET that would change
something, file downloads, integer query parameters, a refused call's errors by field, and a share as text."""

from urllib.parse import quote

from django.http import HttpResponse
from django.template.response import TemplateResponse

from gonghui.common.errors import DomainError, ValidationFailed

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def site_page(request, site, title: str, template: str, **context) -> TemplateResponse:
    """A page of our own inside the admin site's frame (sidebar, header, messages)."""
    return TemplateResponse(request, template, {**site.each_context(request), "title": title, **context})


def confirm_page(request, *, title: str, intro: str, cancel_url: str, form=None) -> TemplateResponse:
    """The answer to a GET of an address that changes something: what will happen, a 确认 button posting back to the
    same address with the CSRF token, and a 取消 link. A link on another site can then never act in someone's
    session: browsers send the session cookie on a top-level navigation (SameSite=Lax), but never the token."""
    from gonghui.backoffice.site import backoffice_site

    return site_page(
        request, backoffice_site, title, "backoffice/confirm.html", intro=intro, cancel_url=cancel_url, form=form
    )


def download(
    content: bytes,
    filename: str = "",
    content_type: str = XLSX,
    *,
    ascii_filename: str = "",
    no_store: bool = False,
) -> HttpResponse:
    """A file to save. `filename` (Chinese as a rule) goes in filename*, UTF-8 and percent-encoded (RFC 5987, as RFC
    6266 says); `ascii_filename`, when given, goes before it in filename= for clients that read only that one.
    `no_store` keeps the file out of every cache (exports of personal data)."""
    parts = ["attachment"]
    if ascii_filename:
        parts.append(f'filename="{ascii_filename}"')
    if filename:
        parts.append(f"filename*=UTF-8''{quote(filename)}")
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = "; ".join(parts)
    if no_store:
        response["Cache-Control"] = "no-store"
    return response


def int_param(request, name: str, default: int, low: int | None = None, high: int | None = None) -> int:
    """An integer from the query string: `default` when it is missing, empty or not a number; then held within
    [low, high] (either bound optional), so that no value of any size reaches a query or a loop."""
    try:
        value = int(request.GET.get(name) or default)
    except ValueError:
        value = default
    if low is not None:
        value = max(value, low)
    if high is not None:
        value = min(value, high)
    return value


def errors_of(exc: DomainError) -> dict[str, str]:
    """A refused service call as {field: message} for a form: a validation's own fields, anything else under
    "form"."""
    return dict(exc.errors) if isinstance(exc, ValidationFailed) else {"form": exc.message}


def percent_text(part: int, whole: int) -> str:
    """A share as shown on a card: '12.5%', or — when there is nothing to divide by."""
    return f"{part * 100 / whole:.1f}%" if whole else "—"
