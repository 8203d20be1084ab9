"""Roster import for external systems (a personnel system sending its roster) and for the back office: upload a
file, then poll the job. Tokens need the roster-import permission set when the token was created."""

from typing import Literal

from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile

from gonghui.api.schemas import ErrorOut
from gonghui.common.errors import NotFound
from gonghui.imports.roster import import_rows_json, roster_import_get, roster_import_request
from gonghui.jobs.models import JobRun
from gonghui.orgs.selectors import org_get_by_code

router = Router(tags=["会员名册导入"])
ROWS_LIMIT = 5000


class ImportRowOut(Schema):
    row: int
    status: str
    reason: str


class ImportJobOut(Schema):
    # Read from the JobRun; the rows are read once per answer (one more than shown, to tell a cut list).
    id: str
    status: str
    phase: str
    done: int
    total: int
    summary: dict[str, int]
    message: str
    unknown_columns: list[str]
    error: str
    rows: list[ImportRowOut]
    rows_truncated: bool

    @staticmethod
    def resolve_id(job) -> str:
        return str(job.id)

    @staticmethod
    def resolve_summary(job) -> dict:
        return job.result.get("summary", {})

    @staticmethod
    def resolve_message(job) -> str:
        return job.result.get("message", "")

    @staticmethod
    def resolve_unknown_columns(job) -> list:
        return job.result.get("unknown_columns", [])

    @staticmethod
    def resolve_rows(job, context) -> list:
        return _rows(job, context)[:ROWS_LIMIT]

    @staticmethod
    def resolve_rows_truncated(job, context) -> bool:
        return len(_rows(job, context)) > ROWS_LIMIT


def _rows(job: JobRun, context) -> list:
    read = context.setdefault("import_rows", {})
    if job.id not in read:
        read[job.id] = import_rows_json(job, limit=ROWS_LIMIT + 1)
    return read[job.id]


@router.post(
    "/members/imports",
    response={202: ImportJobOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="上传会员名册（后台任务）",
)
def import_upload(
    request,
    file: File[UploadedFile],
    org_code: Form[str],
    mode: Form[Literal["dry-run", "add", "upsert"]] = "dry-run",
):
    actor = request.actor
    try:
        org = org_get_by_code(actor=actor, code=org_code)
    except NotFound:
        raise NotFound("没有找到该工会代码，或不在授权范围内") from None
    job = roster_import_request(actor=actor, org=org, filename=file.name or "", content=file.read(), mode=mode)
    job.refresh_from_db()
    return 202, job


@router.get("/members/imports/{job_id}", response={200: ImportJobOut, 404: ErrorOut}, summary="导入进度与逐行结果")
def import_status(request, job_id: str):
    return roster_import_get(actor=request.actor, job_id=job_id)
