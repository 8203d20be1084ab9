"""The statistics tests' shared fixtures: the frozen clock and the recount world (tests/stats/world.py)."""

from tests.stats.world import clock, world  # noqa: F401 (fixtures, found by name)
