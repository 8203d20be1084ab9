import pytest

from tests.demo.factories import seed


@pytest.fixture(scope="module")
def seeded(module_db):
    """The demo federation seeded once into the empty database for the module's tests (the command's output); each
    test runs in a savepoint, so what a test writes (a sign-in, a second seed) is undone after it."""
    return seed()
