from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from gonghui.common.actor import system_actor
from gonghui.common.errors import DomainError
from gonghui.orgs.models import Organisation, OrgType
from gonghui.orgs.services import org_create


class Command(BaseCommand):
    help = "Create the root city federation of a new installation (production set-up; the demo uses seed_demo)."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="e.g. 苏州市总工会")
        parser.add_argument("--code", required=True, help="short code, e.g. SZ")
        parser.add_argument("--region", required=True, help="GB/T 2260 code of the city, e.g. 320500")

    def handle(self, *args, name, code, region, **options):
        if Organisation.objects.exists():
            raise CommandError("组织树已存在根组织")
        try:
            with transaction.atomic():
                org = org_create(
                    actor=system_actor("init_root_org"),
                    parent=None,
                    name=name,
                    code=code,
                    org_type=OrgType.CITY,
                    region_code=region,
                )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"已创建根组织 {org.name}（{org.code}）")
