from django.core.management.base import BaseCommand

from gonghui.common.actor import system_actor
from gonghui.members.notices import join_applications_overdue_notify
from gonghui.members.services import transfers_escalate_overdue


class Command(BaseCommand):
    help = (
        "Escalate transfers past their step's deadline to the lowest common parent union, and tell applicants whose "
        "join application is past its deadline. Run daily."
    )

    def handle(self, *args, **options):
        actor = system_actor("escalate_overdue")
        count = transfers_escalate_overdue(actor=actor)
        told = join_applications_overdue_notify(actor=actor)
        self.stdout.write(f"已上报 {count} 件超期会员接转；已提醒 {told} 位入会申请超期未审核的申请人。")
