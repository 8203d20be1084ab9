"""Shared set-up for benchmarks: a fresh database of their own (PostgreSQL unless told otherwise), Django ready,
timing helpers and the one-line JSON result."""

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/postgres"


def fresh_database(name: str) -> str:
    """Create (or recreate) database `name` next to DATABASE_URL's server and return its URL. With a SQLite
    DATABASE_URL, a fresh file under var/ is used instead."""
    base = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or DEFAULT_PG
    if base.startswith("sqlite"):
        path = ROOT / "var" / f"{name}.sqlite3"
        path.parent.mkdir(exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    import psycopg

    server, _, _db = base.rpartition("/")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gonghui.settings")
    os.environ["TASKS_BACKEND"] = "django_tasks.backends.immediate.ImmediateBackend"
    os.chdir(ROOT)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def drop_database(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        return
    from django.db import connections

    connections.close_all()
    import psycopg

    server, _, name = database_url.rpartition("/")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def run_sized(name: str, doc: str, sizes: dict, run) -> None:
    """The command line of a benchmark with its own database: `--size` picks one of `sizes`, `--keep` leaves the
    loaded database in place afterwards (to look into it); `run(size, size_name)` does the work."""
    import argparse

    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--size", choices=sizes, default="small")
    parser.add_argument("--keep", action="store_true", help="leave the loaded database in place afterwards")
    args = parser.parse_args()
    database_url = fresh_database(f"gonghui_bench_{name}")
    os.environ["DEBUG"] = "false"  # DEBUG keeps every query in connection.queries; production does not
    setup_django(database_url)
    try:
        run(sizes[args.size], args.size)
    finally:
        if args.keep:
            say(f"[{name}] kept the database: {database_url}")
        else:
            drop_database(database_url)


def timed_ms(fn, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def p50(samples: list[float]) -> float:
    return round(statistics.median(samples), 3)


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 3)


def say(message: str) -> None:
    print(message, flush=True)


def result(figures: dict) -> None:
    print(json.dumps(figures, ensure_ascii=False), flush=True)
