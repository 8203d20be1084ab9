"""The statistics app writes nothing but the audit events of its exports."""

from gonghui.audit.services import audit_record
from gonghui.common.actor import Actor
from gonghui.orgs.models import Organisation
from gonghui.stats.selectors import require_figures

REPORTS = {
    "members": "会员统计表",
    "founding": "建会情况表",
    "annual_xlsx": "年度工作统计（Excel）",
    "annual_docx": "年度工作统计（Word）",
}


def stats_export_record(*, actor: Actor, org: Organisation, report: str, period: str) -> None:
    """Every export of a statistics table is audited, like every export."""
    require_figures(actor, org)
    audit_record(
        actor=actor,
        action="stats.export",
        object_type="organisation",
        object_id=org.id,
        object_label=org.name,
        object_org_path=org.path,
        details={"report": report, "title": REPORTS[report], "period": period},
    )
