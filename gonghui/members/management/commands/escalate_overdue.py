from django.core.management.base import BaseCommand

from gonghui.common.actor import system_actor
from gonghui.members.services import transfers_escalate_overdue


class Command(BaseCommand):
    help = "Escalate transfers past their step's deadline to the lowest common parent union. Run daily."

    def handle(self, *args, **options):
        count = transfers_escalate_overdue(actor=system_actor("escalate_overdue"))
        self.stdout.write(f"已上报 {count} 件超期会员接转。")
