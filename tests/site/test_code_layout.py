"""The layout rules a newcomer relies on, checked on every run: small files, and each domain's tables read
through that domain's own selectors and services (docs/architecture.md, "Layout")."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP_FILE_LIMIT = 600  # lines in any application module
TEST_FILE_LIMIT = 700  # lines in any test module

# Where a module reaches into another domain's tables on purpose: (module or folder, the owning app) -> the reason.
# Everything else goes through the owning domain's selectors (reads) and services (writes).
CROSS_DOMAIN_ALLOWED: dict[tuple[str, str], str] = {
    ("gonghui/imports/roster/", "members"): "the roster import is the registry's bulk path: it merges and loads "
    "people, memberships and its import rows set-based (COPY on PostgreSQL), which the row-at-a-time services cannot",
    ("gonghui/imports/roster/", "jobs"): "an import drives its own job row: progress per chunk, resume, cancel, purge",
    ("gonghui/imports/management/", "jobs"): "the import commands find and resume the import jobs they started",
}


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def _python_files(top: str) -> list[Path]:
    return sorted(p for p in (ROOT / top).rglob("*.py") if "migrations" not in p.parts)


def test_no_application_module_over_the_limit():
    over = {str(p.relative_to(ROOT)): _lines(p) for p in _python_files("gonghui") if _lines(p) > APP_FILE_LIMIT}
    assert over == {}


def test_no_test_module_over_the_limit():
    over = {str(p.relative_to(ROOT)): _lines(p) for p in _python_files("tests") if _lines(p) > TEST_FILE_LIMIT}
    assert over == {}


def _models_by_app() -> dict[str, str]:
    """Model class name -> the app that defines it."""
    owners = {}
    for app in (ROOT / "gonghui").iterdir():
        for path in [app / "models.py", *sorted((app / "models").glob("*.py"))]:
            if path.exists():
                text = path.read_text(encoding="utf-8")
                for name in re.findall(r"^class (\w+)\((?!models\.(?:Text|Integer)Choices)[^)]*\)", text, re.M):
                    owners[name] = app.name
    return owners


def test_domains_read_each_others_tables_through_selectors():
    owners = _models_by_app()
    found = []
    for path in _python_files("gonghui"):
        app = path.relative_to(ROOT / "gonghui").parts[0]
        module = str(path.relative_to(ROOT))
        if app == "demo":  # builds a whole world through every domain's services; reads its own results back
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for name in re.findall(r"\b(\w+)\.objects\b", line):
                owner = owners.get(name, app)
                if owner != app and not _allowed(module, owner):
                    found.append(f"{module}:{number} {name} ({owner})")
    assert found == []


def _allowed(module: str, owner: str) -> bool:
    return any(module.startswith(prefix) and owner == app for prefix, app in CROSS_DOMAIN_ALLOWED)


def test_every_allowed_exception_still_exists():
    assert [prefix for prefix, _ in CROSS_DOMAIN_ALLOWED if not (ROOT / prefix).exists()] == []
