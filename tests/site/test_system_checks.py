"""Starting the product prints no system-check warnings, on either database: an operator who sees a warning on
every start learns to ignore warnings."""

import pytest
from django.core import checks
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_no_system_check_warnings_on_start():
    messages = [
        m for m in checks.run_checks(include_deployment_checks=False, databases=["default"]) if not m.is_silenced()
    ]
    assert [(m.id, str(m.obj)) for m in messages] == []


def test_check_command_is_silent(capsys):
    call_command("check", databases=["default"])
    out = capsys.readouterr()
    assert "WARNINGS" not in out.out + out.err
    assert "W040" not in out.out + out.err
