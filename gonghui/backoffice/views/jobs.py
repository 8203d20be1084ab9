"""A background job's status page (polled by htmx) and its result download."""

from django.http import FileResponse, Http404

from gonghui.backoffice.base import require_actor
from gonghui.backoffice.views.helpers import site_page
from gonghui.common.errors import NotFound
from gonghui.jobs.selectors import job_get
from gonghui.jobs.services import job_result_download_record


def job_status(request, job_id: str):
    from gonghui.backoffice.site import backoffice_site

    actor = require_actor(request)
    try:
        job = job_get(actor=actor, job_id=job_id)
    except NotFound:
        raise Http404 from None
    template = "backoffice/_job_progress.html" if request.htmx else "backoffice/job_status.html"
    return site_page(request, backoffice_site, job.title, template, job=job)


def job_download(request, job_id: str):
    actor = require_actor(request)
    try:
        job = job_get(actor=actor, job_id=job_id)
    except NotFound:
        raise Http404 from None
    if not job.result_file:
        raise Http404
    job_result_download_record(actor=actor, job=job)
    return FileResponse(job.result_file.open("rb"), as_attachment=True, filename=job.result_name)
