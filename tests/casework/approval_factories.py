"""Helpers of the hardship approval and payment tests: a grant that needs approval, the state a refused
call must leave unchanged, the payment form."""

from datetime import date

from gonghui.casework.models import CaseStatus, HardshipAid, HardshipAidRule, HardshipApproval
from tests.casework.factories import advance, apply, casework_state

T02 = "SZ-GS-T02"
MONDAY = date(2025, 11, 3)


def grant(amount: str, tier: str = "relative", form: str = "money") -> dict:
    return {"granted": True, "tier": tier, "aid_form": form, "amount": amount, "aid_description": "困难帮扶金"}


def state() -> dict:
    """casework_state, plus what approvals, grants' approval and payment, and the standard hold."""
    return {
        **casework_state(),
        "approvals": list(
            HardshipApproval.objects.order_by("id").values_list(
                "id", "status", "decided_at", "decided_by", "decision_note", "escalated_at", "file_id"
            )
        ),
        "aid_state": list(
            HardshipAid.objects.order_by("id").values_list(
                "id", "approval", "paid_on", "paid_amount", "paid_method", "receiver", "signer", "receipt_no"
            )
        ),
        "rules": list(
            HardshipAidRule.objects.order_by("tier").values_list("tier", "file_needs_approval", "grant_limit")
        ),
    }


class unchanged:
    """`with unchanged(), pytest.raises(...):` - the refused call wrote nothing at all (audit trail included)."""

    def __enter__(self):
        self.before = state()

    def __exit__(self, *exc):
        assert state() == self.before
        return False


def waiting(member, actors, amount: str, tier: str = "relative"):
    """A hardship case of union "12" closed by its cadre with a grant that needs approval: (case, approval)."""
    case = advance(apply(member, "hardship"), actors, "closed", outcome=grant(amount, tier))
    assert case.status == CaseStatus.PENDING_APPROVAL
    return case, HardshipApproval.objects.get(case=case)


def pay_form(amount: str = "3000.00", **fields) -> dict:
    return {
        "paid_method": "bank",
        "paid_amount": amount,
        "paid_on": "2025-11-03",
        "receiver": "张三",
        "signer": "张三",
        "receipt_no": "SZ-12-2025-0007",
        **fields,
    }


# ================================================================ a file and a grant outside an application


FILE_DATA = {"tier": "deep", "causes": ["illness"], "household_size": "3", "household_income": "30000"}
