"""Back-office pages of the organisation-tree import: the upload form with its result on the same page, and the
template download. Thin: build the actor, call the service, render. The import is synchronous (sheets hold a few
thousand rows at most), so there is no job page."""

from django.http import HttpResponse
from django.template.response import TemplateResponse

from gonghui.backoffice.base import report_domain_error, require_actor
from gonghui.backoffice.views.helpers import site_page as views_page
from gonghui.common.actor import Actor
from gonghui.common.errors import DomainError
from gonghui.common.roles import Perm
from gonghui.imports.orgs import MAX_ROWS, org_tree_import
from gonghui.imports.orgs.template import org_import_template_xlsx

ROWS_SHOWN = 1000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TITLE = "组织架构导入"
REFUSED = "组织架构导入须由上级工会干部或系统管理员办理，当前角色无权导入"


def _page(request, template: str, *, status: int = 200, **context) -> TemplateResponse:
    from gonghui.backoffice.site import backoffice_site

    response = views_page(request, backoffice_site, TITLE, template, **context)
    response.status_code = status
    return response


def _allowed(request) -> Actor | None:
    actor = require_actor(request)
    return actor if actor.can(Perm.ORGS_STRUCTURE) else None


def org_import_view(request):
    """GET: the upload form; POST: check (and unless 仅预览, import) the file and show the outcome of every row."""
    actor = _allowed(request)
    if actor is None:
        return _page(request, "backoffice/org_import.html", status=403, refused=REFUSED)
    context = {"dry_run": True, "max_rows": MAX_ROWS}
    if request.method == "POST":
        dry_run = bool(request.POST.get("dry_run"))
        upload = request.FILES.get("file")
        context["dry_run"] = dry_run
        try:
            if upload is None:
                raise DomainError("请选择要导入的文件", code="no_file")
            result = org_tree_import(actor=actor, data=upload.read(), filename=upload.name, dry_run=dry_run)
        except DomainError as exc:
            report_domain_error(request, exc)
        else:
            shown = result.rows_errors_first[:ROWS_SHOWN]
            context.update(result=result, summary=result.summary, rows=shown, rows_shown=ROWS_SHOWN)
    return _page(request, "backoffice/org_import.html", **context)


def org_import_template(request):
    if _allowed(request) is None:
        return _page(request, "backoffice/org_import.html", status=403, refused=REFUSED)
    response = HttpResponse(org_import_template_xlsx(), content_type=XLSX)
    response["Content-Disposition"] = (
        "attachment; filename*=UTF-8''%E7%BB%84%E7%BB%87%E6%9E%B6%E6%9E%84%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx"
    )
    return response
