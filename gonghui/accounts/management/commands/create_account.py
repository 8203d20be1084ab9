import getpass

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from gonghui.accounts.services import account_create
from gonghui.common.actor import system_actor
from gonghui.common.errors import DomainError
from gonghui.common.roles import ROLE_LABELS, Role
from gonghui.orgs.selectors import org_by_code


class Command(BaseCommand):
    help = "Create a back-office account (first administrators of a new installation). Prompts for the password."

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--full-name", required=True)
        parser.add_argument("--org", required=True, help="organisation code")
        parser.add_argument("--role", required=True, choices=[r.value for r in ROLE_LABELS if r != Role.MEMBER])

    def handle(self, *args, username, full_name, org, role, **options):
        target = org_by_code(org.strip().upper())
        if target is None:
            raise CommandError(f"找不到组织代码 {org}")
        password = getpass.getpass("密码：")
        if password != getpass.getpass("再次输入密码："):
            raise CommandError("两次输入的密码不一致")
        try:
            with transaction.atomic():
                user = account_create(
                    actor=system_actor("create_account"),
                    username=username,
                    full_name=full_name,
                    org=target,
                    role=role,
                    password=password,
                )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"已创建账号 {user.username}（{user.get_role_display()}，{target.name}）")
