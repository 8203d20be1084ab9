"""The demo federation's generator, and the seed command on an empty database."""

import io

import pytest
from django.core.management import CommandError, call_command

from gonghui.demo.federation import build_federation
from gonghui.orgs.models import Organisation
from tests.demo.factories import ORGS, SEED, seed


def test_build_federation_is_deterministic():
    first = build_federation(orgs=ORGS, seed=SEED)
    second = build_federation(orgs=ORGS, seed=SEED)

    assert first.specs == second.specs
    assert first.employers == second.employers
    assert [(s.code, s.name, s.parent_code) for s in first.specs] == [
        (s.code, s.name, s.parent_code) for s in second.specs
    ]
    assert len(first.specs) == ORGS - 1  # plus the root the command creates
    other = build_federation(orgs=ORGS, seed=SEED + 1)
    assert [s.name for s in other.specs] != [s.name for s in first.specs]


def test_if_empty_on_an_empty_database_loads(db):
    seed("--if-empty")
    assert Organisation.objects.count() == ORGS


def test_too_few_orgs_is_refused(db):
    with pytest.raises(CommandError, match="--orgs must be at least 50"):
        call_command("seed_demo", "--orgs", "49", stdout=io.StringIO())
    assert Organisation.objects.count() == 0
