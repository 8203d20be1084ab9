from django.core.management.base import BaseCommand

from gonghui.casework.approval import approvals_escalate_overdue
from gonghui.casework.hardship import hardship_transitions_end
from gonghui.casework.services import cases_escalate_overdue
from gonghui.common.actor import system_actor


class Command(BaseCommand):
    help = (
        "Escalate service cases past their step's deadline to the parent union (a case waiting for approval to the "
        "approving union's parent), escalate overdue approvals of hardship files and grants, and close hardship "
        "files whose transition period has ended. Run daily."
    )

    def handle(self, *args, **options):
        actor = system_actor("escalate_cases")
        escalated = cases_escalate_overdue(actor=actor)
        approvals = approvals_escalate_overdue(actor=actor)
        ended = hardship_transitions_end(actor=actor)
        self.stdout.write(
            f"已上报 {escalated} 件超期服务申请；{approvals} 件超期未审批的困难帮扶事项；"
            f"{ended} 份困难职工档案过渡期结束。"
        )
