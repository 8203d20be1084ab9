from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from gonghui.accounts.services import api_token_create
from gonghui.common.actor import system_actor
from gonghui.common.errors import DomainError
from gonghui.orgs.selectors import org_by_code, org_root


class Command(BaseCommand):
    help = "Create a bearer token for an external system and print it once. It acts within --org's subtree."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="who uses the token, e.g. 省总工会数据平台")
        parser.add_argument("--org", help="organisation code; default: the root organisation")

    def handle(self, *args, name: str, org: str | None, **options):
        if org:
            target = org_by_code(org.strip().upper())
            if target is None:
                raise CommandError(f"找不到组织代码 {org}")
        else:
            target = org_root()
            if target is None:
                raise CommandError("还没有任何组织，请先初始化组织树")
        try:
            with transaction.atomic():
                token, raw = api_token_create(actor=system_actor("create_api_token"), org=target, name=name)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(f"已为“{token.name}”创建令牌，范围：{target.name}（{target.code}）。令牌只显示这一次：")
        self.stdout.write(raw)
