"""Materialized paths of the organisation tree: fixed-width steps of four base-36 characters (django-treebeard
MP_Node defaults). Because every step has the same width, "path starts with P" is exactly "lies in P's subtree":
unit ...0012 can never match ...0123. An empty scope path is used only by the platform's own system actor."""

STEPLEN = 4


def is_root_path(path: str) -> bool:
    return len(path) == STEPLEN


def depth_of(path: str) -> int:
    return len(path) // STEPLEN


def ancestor_paths(path: str) -> list[str]:
    """Paths of all ancestors, root first, excluding `path` itself."""
    return [path[:end] for end in range(STEPLEN, len(path), STEPLEN)]
