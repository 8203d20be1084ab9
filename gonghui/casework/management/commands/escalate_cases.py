from django.core.management.base import BaseCommand

from gonghui.casework.hardship import hardship_transitions_end
from gonghui.casework.services import cases_escalate_overdue
from gonghui.common.actor import system_actor


class Command(BaseCommand):
    help = (
        "Escalate service cases past their step's deadline to the parent union, and close hardship files whose "
        "transition period has ended. Run daily."
    )

    def handle(self, *args, **options):
        actor = system_actor("escalate_cases")
        escalated = cases_escalate_overdue(actor=actor)
        ended = hardship_transitions_end(actor=actor)
        self.stdout.write(f"已上报 {escalated} 件超期服务申请；{ended} 份困难职工档案过渡期结束。")
