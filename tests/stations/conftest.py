"""Fixtures of the stations tests."""

import pytest


@pytest.fixture
def media(settings, tmp_path):
    """Photos go to a directory of this test's own, so the stored files can be compared before and after."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root
