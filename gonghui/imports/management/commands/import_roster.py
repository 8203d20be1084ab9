import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gonghui.accounts.actors import actor_for_user
from gonghui.accounts.selectors import user_by_username
from gonghui.common.actor import system_actor
from gonghui.common.errors import DomainError
from gonghui.imports.roster import COUNT_KEYS, MODES, import_rows_json, roster_import_request, roster_import_run
from gonghui.jobs.models import JobRun
from gonghui.orgs.selectors import org_by_code


class Command(BaseCommand):
    help = (
        "Import a member roster (.xlsx/.xls/.ods/.csv) into a grassroots union, in this process. "
        "Modes: dry-run (preview, writes nothing), add (new members only), upsert (add and update). "
        "--resume JOB continues an import whose worker stopped."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", help="the roster file")
        parser.add_argument("--org", help="code of the grassroots union (工会代码)")
        parser.add_argument("--mode", choices=sorted(MODES), default="add")
        parser.add_argument("--user", help="act as this account (its scope and role); default: the platform")
        parser.add_argument("--resume", metavar="JOB_ID", help="continue an unfinished import job")
        parser.add_argument("--json", action="store_true", help="print one JSON object: summary and rows")

    def handle(self, *args, **options):
        if options["resume"]:
            job = JobRun.objects.filter(id=options["resume"], kind="roster_import").first()
            if job is None:
                raise CommandError("没有这个导入任务")
        else:
            job = self._request(options)
        roster_import_run(str(job.id))
        job.refresh_from_db()
        if job.status != "succeeded":
            raise CommandError(job.error or f"导入未完成：{job.get_status_display()}")
        summary = {key: job.result["summary"].get(key, 0) for key in ("rows", *COUNT_KEYS)}
        if options["json"]:
            payload = {"summary": summary, "rows": import_rows_json(job), "job": str(job.id)}
            payload["unknown_columns"] = job.result.get("unknown_columns", [])
            self.stdout.write(json.dumps(payload, ensure_ascii=False))
            return
        self.stdout.write(job.result["message"])
        if job.result.get("unknown_columns"):
            self.stdout.write("未识别的列（未导入）：" + "、".join(job.result["unknown_columns"]))
        if job.result_name:
            self.stdout.write(
                f"问题清单：{job.result_file.path if hasattr(job.result_file, 'path') else job.result_name}"
            )

    def _request(self, options) -> JobRun:
        if not options["path"] or not options["org"]:
            raise CommandError("请给出文件路径和 --org 工会代码")
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"找不到文件：{path}")
        org = org_by_code(options["org"])
        if org is None:
            raise CommandError(f"没有代码为 {options['org']} 的组织")
        if options["user"]:
            user = user_by_username(options["user"])
            if user is None:
                raise CommandError(f"没有账号 {options['user']}")
            actor = actor_for_user(user)
        else:
            actor = system_actor("import_roster")
        try:
            return roster_import_request(
                actor=actor,
                org=org,
                filename=path.name,
                content=path.read_bytes(),
                mode=options["mode"],
                enqueue=lambda job_id: None,
            )
        except DomainError as exc:
            raise CommandError(exc.message) from None
