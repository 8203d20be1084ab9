"""Back-office pages of the imports. The roster import: the upload form, the job page (live progress, summary,
problem rows, error report, cancel, transfers for members of other unions) and the template download. The
organisation-tree import: the upload form with its result on the same page (synchronous: sheets hold a few thousand
rows at most, so there is no job page) and its template. Thin: build the actor, call one selector or service,
render."""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from gonghui.backoffice.base import report_domain_error, require_actor
from gonghui.backoffice.views.helpers import confirm_page, download, site_page
from gonghui.common.actor import Actor
from gonghui.common.errors import DomainError, NotFound
from gonghui.common.roles import Perm
from gonghui.imports.orgs import MAX_ROWS, org_tree_import
from gonghui.imports.orgs.template import org_import_template_xlsx
from gonghui.imports.roster import (
    IMPORT_MODES,
    MODES,
    import_rows_of,
    preview_importable,
    roster_import_cancel,
    roster_import_from_preview,
    roster_import_request,
    roster_import_transfers,
)
from gonghui.imports.roster.template import roster_template_xlsx
from gonghui.jobs.models import JobRun, JobStatus
from gonghui.jobs.selectors import job_get, jobs_of
from gonghui.members.figures import declared_behind
from gonghui.members.services import declared_total_record
from gonghui.orgs.selectors import org_get, org_get_by_code, org_scope_root

ROWS_SHOWN = 200
ORG_ROWS_SHOWN = 1000
ORG_TITLE = "组织架构导入"
ORG_REFUSED = "组织架构导入须由上级工会干部或系统管理员办理，当前角色无权导入"


def _page(request, title: str, template: str, **context) -> TemplateResponse:
    from gonghui.backoffice.site import backoffice_site

    return site_page(request, backoffice_site, title, template, **context)


def _import_job(actor, job_id: str) -> JobRun:
    try:
        job = job_get(actor=actor, job_id=job_id)
    except NotFound:
        raise Http404 from None
    if job.kind != "roster_import":
        raise Http404
    return job


def roster_import_view(request):
    """GET: the upload form (and this account's recent imports); POST: queue the import and go to its page."""
    actor = require_actor(request)
    actor.require(Perm.MEMBERS_IMPORT)
    preset = ""
    if request.GET.get("org"):
        try:
            preset = org_get(actor=actor, org_id=request.GET["org"]).code
        except NotFound:
            raise Http404 from None
    else:
        root = org_scope_root(actor=actor)
        preset = root.code if root.is_grassroots else ""
    context = {"modes": MODES, "org_code": preset, "mode": "dry-run"}
    if request.method == "POST":
        code = (request.POST.get("org_code") or "").strip()
        mode = request.POST.get("mode", "")
        upload = request.FILES.get("file")
        context.update(org_code=code, mode=mode)
        try:
            if upload is None:
                raise DomainError("请选择要导入的文件", code="no_file")
            try:
                org = org_get_by_code(actor=actor, code=code)
            except NotFound:
                raise DomainError(f"没有找到工会代码为“{code}”的组织（或不在您的管辖范围内）", code="no_org") from None
            job = roster_import_request(actor=actor, org=org, filename=upload.name, content=upload.read(), mode=mode)
        except DomainError as exc:
            report_domain_error(request, exc)
        else:
            return redirect(reverse("admin:roster_import_detail", args=[job.id]))
    recent = jobs_of(actor).filter(kind="roster_import").order_by("-created_at")[:10]
    return _page(request, "导入会员名册", "backoffice/members/import.html", recent=recent, **context)


def roster_import_detail(request, job_id: str):
    actor = require_actor(request)
    job = _import_job(actor, job_id)
    rows = []
    if job.is_finished or request.GET.get("rows"):
        rows = list(import_rows_of(job, status=request.GET.get("status", ""))[:ROWS_SHOWN])
    context = {
        "job": job,
        "rows": rows,
        "rows_shown": ROWS_SHOWN,
        "summary": job.result.get("summary", {}),
        "importable": preview_importable(job, actor=actor) and actor.can(Perm.MEMBERS_IMPORT),
        "import_modes": {mode: MODES[mode] for mode in IMPORT_MODES},
    }
    if job.status == JobStatus.SUCCEEDED and job.params.get("mode") != "dry-run":
        context["declared_behind"] = _declared_behind(actor, job)
    if request.htmx:
        return TemplateResponse(request, "backoffice/members/_import_progress.html", context)
    return _page(request, job.title, "backoffice/members/import_detail.html", **context)


@require_POST
def roster_import_from_preview_view(request, job_id: str):
    """POST 导入此文件 on a preview's page: import the previewed file (no second upload) and go to the import."""
    actor = require_actor(request)
    preview = _import_job(actor, job_id)
    try:
        job = roster_import_from_preview(actor=actor, preview=preview, mode=request.POST.get("mode", ""))
    except DomainError as exc:
        report_domain_error(request, exc)
        return redirect(reverse("admin:roster_import_detail", args=[preview.id]))
    return redirect(reverse("admin:roster_import_detail", args=[job.id]))


def _declared_behind(actor, job: JobRun):
    try:
        org = org_get(actor=actor, org_id=job.params["org_id"])
    except NotFound:
        return None
    return declared_behind(actor=actor, org=org)


def roster_import_declared_view(request, job_id: str):
    """After an import that took a union past its declared 实有会员数: record the new figure (POST, confirmed on the
    form; a GET shows the confirmation page)."""

    actor = require_actor(request)
    job = _import_job(actor, job_id)
    behind = _declared_behind(actor, job) if job.status == JobStatus.SUCCEEDED else None
    back = reverse("admin:roster_import_detail", args=[job.id])
    if behind is None:
        messages.info(request, "本会实有会员数无需更新")
        return redirect(back)
    form = DeclaredForm(request.POST or None, initial={"total": behind.held})
    if request.method == "POST" and form.is_valid():
        if not form.cleaned_data["confirmed"]:
            form.add_error("confirmed", "请确认实有会员数已核对")
        else:
            try:
                declared_total_record(actor=actor, org=behind.org, total=form.cleaned_data["total"])
            except DomainError as exc:
                report_domain_error(request, exc, form)
            else:
                messages.success(request, f"{behind.org.name}实有会员数已更新为 {form.cleaned_data['total']:,} 人")
                return redirect(back)
    return confirm_page(
        request,
        title="更新实有会员数",
        intro=f"{behind.org.name}现有入库会员 {behind.held:,} 人，多于填报的实有会员数 {behind.declared:,} 人。"
        "请按本会台账核对后填写实有会员数。",
        cancel_url=back,
        form=form,
    )


class DeclaredForm(forms.Form):
    total = forms.IntegerField(label="实有会员数（人）", min_value=0, max_value=1_000_000)
    confirmed = forms.BooleanField(label="我已按本会台账核对，实有会员数以此为准", required=False)


@require_POST
def roster_import_cancel_view(request, job_id: str):
    actor = require_actor(request)
    job = _import_job(actor, job_id)
    try:
        roster_import_cancel(actor=actor, job=job)
        messages.info(request, "导入已取消：已提交的部分保留，未处理的行不再导入")
    except DomainError as exc:
        report_domain_error(request, exc)
    return redirect(reverse("admin:roster_import_detail", args=[job.id]))


@require_POST
def roster_import_transfers_view(request, job_id: str):
    actor = require_actor(request)
    job = _import_job(actor, job_id)
    try:
        result = roster_import_transfers(actor=actor, job=job)
        messages.success(
            request, f"已发起 {result['created']} 件会员接转，跳过 {result['skipped']} 件（会籍已变化或已有在办接转）"
        )
    except DomainError as exc:
        report_domain_error(request, exc)
    return redirect(reverse("admin:roster_import_detail", args=[job.id]))


def roster_import_template(request):
    actor = require_actor(request)
    actor.require(Perm.MEMBERS_IMPORT)
    return download(roster_template_xlsx(), "会员名册导入模板.xlsx")


# ---------------------------------------------------------------- organisation-tree import


def _org_page(request, template: str, *, status: int = 200, **context) -> TemplateResponse:
    from gonghui.backoffice.site import backoffice_site

    response = site_page(request, backoffice_site, ORG_TITLE, template, **context)
    response.status_code = status
    return response


def _org_import_allowed(request) -> Actor | None:
    actor = require_actor(request)
    return actor if actor.can(Perm.ORGS_STRUCTURE) else None


def org_import_view(request):
    """GET: the upload form; POST: check (and unless 仅预览, import) the file and show the outcome of every row."""
    actor = _org_import_allowed(request)
    if actor is None:
        return _org_page(request, "backoffice/org_import.html", status=403, refused=ORG_REFUSED)
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
            shown = result.rows_errors_first[:ORG_ROWS_SHOWN]
            context.update(result=result, summary=result.summary, rows=shown, rows_shown=ORG_ROWS_SHOWN)
    return _org_page(request, "backoffice/org_import.html", **context)


def org_import_template(request):
    if _org_import_allowed(request) is None:
        return _org_page(request, "backoffice/org_import.html", status=403, refused=ORG_REFUSED)
    return download(org_import_template_xlsx(), "组织架构导入模板.xlsx")
