"""manage.py import_orgs: the organisation-tree import (imports/orgs/) from the command line, acting as an account."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gonghui.accounts.actors import actor_for_user
from gonghui.accounts.selectors import user_by_username
from gonghui.common.errors import DomainError
from gonghui.imports.orgs import org_tree_import


class Command(BaseCommand):
    help = (
        "Create or update union organisations from a spreadsheet (.xlsx/.xls/.ods/.csv), acting as an account "
        "(its scope and role). All or nothing: any row with an error means nothing is written. "
        "Exits with status 1 when a row has an error."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the organisation sheet")
        parser.add_argument("--user", required=True, help="act as this account (its scope and role)")
        parser.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
        parser.add_argument("--json", action="store_true", help="print one JSON object: summary and rows")

    def handle(self, *args, **options):
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"找不到文件：{path}")
        user = user_by_username(options["user"])
        if user is None:
            raise CommandError(f"没有账号 {options['user']}")
        try:
            actor = actor_for_user(user)
            result = org_tree_import(
                actor=actor, data=path.read_bytes(), filename=path.name, dry_run=options["dry_run"]
            )
        except DomainError as exc:
            raise CommandError(exc.message) from None
        if options["json"]:
            self.stdout.write(json.dumps(result.as_json(), ensure_ascii=False))
        else:
            self.stdout.write(result.message)
            if result.unknown_columns:
                self.stdout.write("未识别的列（未导入）：" + "、".join(result.unknown_columns))
            for row in result.rows_errors_first:
                if row.status == "error":
                    self.stdout.write(f"第{row.line}行 {row.code}：{row.reason}")
        if result.has_errors:
            raise CommandError(f"{result.summary['error']}行有错误，未写入任何数据")
