"""What the back office's own pages share: the page frame and the confirmation page of a GET that would
change something."""

from django.template.response import TemplateResponse


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
