"""Fixtures of the organisation tests."""

import pytest

from gonghui.audit.models import AuditEvent
from gonghui.orgs.models import Organisation
from tests.orgs.factories import CLEAN_TREE, employer_state, org_state


@pytest.fixture
def frozen(tree):
    """Call frozen() before a refused call and frozen.check() after: nothing may have changed."""

    class Frozen:
        def __call__(self):
            self.orgs = org_state()
            self.employers = employer_state()
            self.audit = AuditEvent.objects.count()

        def check(self):
            assert org_state() == self.orgs
            assert employer_state() == self.employers
            assert AuditEvent.objects.count() == self.audit
            assert Organisation.objects.find_problems() == CLEAN_TREE

    return Frozen()
