"""Fixtures of the member portal tests."""

import pytest


@pytest.fixture
def union(tree):
    return tree["SZ-GS-T01-12"]
