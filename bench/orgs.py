"""Organisation tree at city scale: build a 50,000-organisation tree, list children and count subtrees.

Compared in the same run with the naive ways: one treebeard add_child() per node for building, and a
level-by-level walk (one query per level, as an adjacency list would do) for counting a subtree.

    python bench/orgs.py --size small|full
"""

import argparse
import random
import time

from _setup import drop_database, fresh_database, p50, p95, result, say, setup_django, timed_ms

SIZES = {
    "small": {"orgs": 3000, "naive_build": 200, "repeat": 50},
    "full": {"orgs": 50000, "naive_build": 2000, "repeat": 200},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=SIZES, default="small")
    args = parser.parse_args()
    size = SIZES[args.size]
    database_url = fresh_database("gonghui_bench_orgs")
    setup_django(database_url)
    try:
        run(size, args.size, database_url)
    finally:
        drop_database(database_url)


def run(size: dict, size_name: str, database_url: str) -> None:
    from django.db import connection, transaction
    from django.test import Client

    from gonghui.accounts.services import api_token_create
    from gonghui.common.actor import system_actor
    from gonghui.demo.federation import ROOT, build_federation
    from gonghui.orgs.models import Organisation, OrgType
    from gonghui.orgs.selectors import org_children, subtree_of
    from gonghui.orgs.services import org_create, org_tree_bulk_create

    vendor = connection.vendor
    actor = system_actor("bench")
    say(f"[orgs] database: {vendor}; size: {size_name} ({size['orgs']} organisations)")
    federation = build_federation(orgs=size["orgs"], seed=11)
    name, code, region = ROOT

    say("[orgs] building the tree with computed paths and batched inserts ...")
    started = time.perf_counter()
    with transaction.atomic():
        org_create(actor=actor, parent=None, name=name, code=code, org_type=OrgType.CITY, region_code=region)
        org_tree_bulk_create(actor=actor, specs=federation.specs)
    build_seconds = time.perf_counter() - started
    total = Organisation.objects.count()
    say(f"[orgs]   {total} organisations in {build_seconds:.2f} s ({total / build_seconds:,.0f}/s)")
    problems = Organisation.objects.find_problems()
    assert all(not p for p in problems), f"tree problems: {problems}"

    say(f"[orgs] naive: {size['naive_build']} nodes one add_child() at a time ...")
    town = Organisation.objects.filter(org_type=OrgType.TOWN).order_by("path").first()
    started = time.perf_counter()
    with transaction.atomic():
        for i in range(size["naive_build"]):
            parent = Organisation.objects.get(id=town.id)
            Organisation.objects.add_child(
                parent,
                {
                    "name": f"基准测试工会{i}",
                    "code": f"BENCH-{i}",
                    "org_type": OrgType.GRASSROOTS,
                    "level": "grassroots",
                    "region_code": region,
                },
            )
    naive_seconds = time.perf_counter() - started
    naive_rate = size["naive_build"] / naive_seconds
    say(f"[orgs]   {naive_rate:,.0f}/s (bulk is {total / build_seconds / naive_rate:.1f}x faster)")

    rng = random.Random(5)
    parents = list(Organisation.objects.filter(numchild__gt=0).values_list("id", flat=True))
    nodes = {
        "root": Organisation.objects.get(depth=1),
        "district": Organisation.objects.filter(org_type=OrgType.COUNTY).order_by("path").first(),
        "town": Organisation.objects.filter(org_type=OrgType.TOWN).order_by("-numchild").first(),
        "grassroots": Organisation.objects.filter(org_type=OrgType.GRASSROOTS).order_by("path").first(),
    }

    say("[orgs] listing children of random parents (selector, first page of 100) ...")
    children_ms = timed_ms(lambda: list(org_children(actor=actor, org_id=rng.choice(parents))[:100]), size["repeat"])

    def naive_children():
        parent = Organisation.objects.get(id=rng.choice(parents))
        return [o for o in Organisation.objects.filter(path__startswith=parent.path) if o.depth == parent.depth + 1][
            :100
        ]

    naive_children_ms = timed_ms(naive_children, max(10, size["repeat"] // 10))
    say(
        f"[orgs]   p50 {p50(children_ms)} ms, p95 {p95(children_ms)} ms; "
        f"naive (load subtree, filter) p95 {p95(naive_children_ms)} ms"
    )

    say("[orgs] counting subtrees (indexed path range) vs a level-by-level walk ...")
    figures = {}
    for label, node in nodes.items():
        fast = timed_ms(lambda node=node: subtree_of(node).count(), size["repeat"])

        def walk(node=node):
            """One query per level, keeping the rows whose parent path is in the previous level."""
            count, frontier, depth = 1, {node.path}, node.depth
            while frontier:
                depth += 1
                level = {
                    p
                    for p in Organisation.objects.filter(depth=depth).values_list("path", flat=True)
                    if p[: -Organisation.steplen] in frontier
                }
                count += len(level)
                frontier = level
            return count

        naive = timed_ms(walk, 3)
        assert walk() == subtree_of(node).count()
        figures[f"subtree_count_{label}_p50_ms"] = p50(fast)
        figures[f"subtree_count_{label}_p95_ms"] = p95(fast)
        figures[f"naive_subtree_count_{label}_p95_ms"] = p95(naive)
        say(
            f"[orgs]   {label:<10} {subtree_of(node).count():>6} orgs: p50 {p50(fast)} ms, p95 {p95(fast)} ms; "
            f"naive walk p95 {p95(naive)} ms"
        )

    say("[orgs] the HTTP API: GET /api/v1/orgs/{id}/children with a bearer token ...")
    _token, raw = api_token_create(actor=actor, org=nodes["root"], name="bench")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    api_ms = timed_ms(lambda: client.get(f"/api/v1/orgs/{rng.choice(parents)}/children?limit=100"), size["repeat"])
    say(f"[orgs]   p50 {p50(api_ms)} ms, p95 {p95(api_ms)} ms")

    result(
        {
            "bench": "orgs",
            "size": size_name,
            "db": vendor,
            "orgs": total,
            "build_seconds": round(build_seconds, 2),
            "build_rate_per_s": round(total / build_seconds),
            "naive_build_rate_per_s": round(naive_rate),
            "children_p50_ms": p50(children_ms),
            "children_p95_ms": p95(children_ms),
            "naive_children_p95_ms": p95(naive_children_ms),
            **figures,
            "api_children_p50_ms": p50(api_ms),
            "api_children_p95_ms": p95(api_ms),
        }
    )


if __name__ == "__main__":
    main()
