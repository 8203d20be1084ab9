"""The dashboard (驾驶舱) at city scale: 4,000,000 members under a 50,000-organisation tree, read through
`GET /api/v1/stats/orgs/{id}/dashboard` for the root, a district, a town and a grassroots union (the largest of each
level by members), and the full recount of the kept figures (`rebuild_counts`, as `manage.py rebuild_counts` runs it).

Compared in the same run with the naive way: the headline figures (members by status, sex, employment form and
农民工, joins this year and in the same stretch of last year, transfers and leavings, members at the end of last
year's same stretch) computed directly from the member table with one aggregate over the subtree — what the dashboard
would cost without the kept figures. The direct aggregate is also the correctness check of the figures.

The members are loaded set-based in SQL (INSERT … SELECT FROM generate_series) on PostgreSQL, with the loaded
tables' indexes and constraints dropped and rebuilt afterwards, not through the registry's services; loading is not
what is measured here. On SQLite (small size only) they are built in Python.

The requests go through django.test.Client, which keeps the database connection from one request to the next; a
production request also pays for a new connection unless CONN_MAX_AGE or a pool keeps one.

Target (from the issue): p95 <= 50 ms for any node through the HTTP API.

    python bench/dashboard.py --size small|full [--keep]
"""

import hashlib
import math
import os
import random
import resource
import time
from collections import defaultdict
from contextlib import contextmanager
from datetime import date, timedelta

from _setup import p50, p95, result, run_sized, say, timed_ms

SIZES = {
    "small": {"orgs": 3000, "members": 40_000, "employers": 2_000, "chunk": 50_000, "repeat": 30, "naive_repeat": 5},
    "full": {
        "orgs": 50_000,
        "members": 4_000_000,
        "employers": 60_000,
        "chunk": 500_000,
        "repeat": 100,
        "naive_repeat": 5,
    },
}
TARGET_MS = 50.0
RANDOM_PAGE_COST = 1.1
SEED = 20241120
# Shares, out of 256 (one byte of a per-person hash decides each).
RESERVED = 8  # 保留会籍 among the members held (~3%)
HISTORY = 15  # members who held an earlier membership elsewhere (~6%) ...
MOVED = 128  # ... half of them came by transfer (接转), the others left and joined again later
AGRICULTURAL = 77  # 农业户口 (~30%)
NON_AGRICULTURAL = 243  # the rest but ~5% not recorded
NEW_FORMS = 20  # 新就业形态 (~8%)
FORM_BLANK = 245  # employment form not recorded from here on (~4%)
MALE = 140  # ~55% men
COVERED = 128  # employers covered by a grassroots union (~half)
DECLARED = 102  # unions that declared a member total (~40%)
# Nearly everyone has a mobile: gonghui.members.quality.failing_by_union (run by rebuild_counts) is quadratic in the
# number of people without one (every such membership scans them all), so a realistic few per cent would keep the
# full size's rebuild running for hours. Out of 65,536 (two bytes of the hash):
NO_PHONE = 33  # ~0.05% without a mobile
SHARED_PHONE = 2  # out of 256: ~0.8% share the mobile of the person before them (a family number)
NO_HOLDING = 0.02  # people (beyond the members) whose only membership has ended, as a share of the members
SIZE_SIGMA = 1.1  # members per union: lognormal
REGION = "320505"


def main() -> None:
    run_sized("dashboard", __doc__, SIZES, run)


# ---------------------------------------------------------------- loading, set-based (PostgreSQL)

# One md5 per person serial `s` gives 16 bytes, each deciding one attribute; a second one (h2) the membership's.
PERSON_ROWS = """
    FROM generate_series(%(lo)s, %(hi)s) s
    CROSS JOIN LATERAL (SELECT decode(md5(s::text), 'hex') AS h, decode(md5('x' || s), 'hex') AS h2) x
    CROSS JOIN LATERAL (SELECT date '1960-01-01' + (get_byte(h, 4) * 256 + get_byte(h, 5)) * 17166 / 65536 AS birth) b
"""
# Joined between 2000 and today, more in recent years (density rising linearly), never before the 16th birthday.
JOINED = """
    CROSS JOIN LATERAL (
        SELECT greatest(
            date '2000-01-01' + floor(%(span)s * sqrt((get_byte(h, 10) * 256 + get_byte(h, 11)) / 65536.0))::int,
            birth + interval '16 years'
        )::date AS joined
    ) j
"""
MEMBER_ROWS = f"""
    FROM bench_unions u
    CROSS JOIN LATERAL generate_series(u.lo, u.hi - 1) s
    CROSS JOIN LATERAL (SELECT decode(md5(s::text), 'hex') AS h, decode(md5('x' || s), 'hex') AS h2) x
    CROSS JOIN LATERAL (SELECT date '1960-01-01' + (get_byte(h, 4) * 256 + get_byte(h, 5)) * 17166 / 65536 AS birth) b
    {JOINED}
    CROSS JOIN LATERAL (
        SELECT get_byte(h, 14) < %(history)s AS history,
               get_byte(h, 14) < %(history)s AND get_byte(h, 15) < %(moved)s AS moved,
               greatest(
                   birth + interval '16 years', joined - (200 + mod(get_byte(h2, 0) * 256 + get_byte(h2, 1), 3000))
               )::date AS earlier_joined
    ) e
"""
IN_CHUNK = "WHERE u.idx >= %(first)s AND u.idx < %(stop)s"
MEMBERSHIP_COLUMNS = (
    "id, person_id, org_id, status, joined_on, source, card_number, ended_on, end_reason, previous_id, "
    "created_at, updated_at"
)


LOADED_TABLES = ["members_person", "members_membership", "orgs_employer", "members_declaredtotal"]


def drop_indexes(cursor, tables: list[str]) -> list[str]:
    """Drop the foreign keys, unique constraints and indexes (all but the primary keys) of `tables`, still empty, and
    return the statements that put them back. Building an index once after the load is much faster than keeping it
    up to date row by row: with random uuids and hashes every row lands on another page of every index."""
    from django.db import connection

    q = connection.ops.quote_name
    cursor.execute(
        """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype FROM pg_constraint
        WHERE conrelid::regclass::text = ANY(%s) AND contype IN ('f', 'u')
        ORDER BY contype, conname
        """,
        [tables],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
        WHERE i.indrelid::regclass::text = ANY(%s) AND NOT i.indisprimary
          AND NOT EXISTS (
              SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x')
          )
        ORDER BY 1
        """,
        [tables],
    )
    indexes = cursor.fetchall()
    for table, name, _definition, _kind in constraints:  # the foreign keys first
        cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {q(name)}")
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {name}")
    return (
        [definition for _name, definition in indexes]
        + [f"ALTER TABLE {t} ADD CONSTRAINT {q(n)} {d}" for t, n, d, kind in constraints if kind == "u"]
        + [f"ALTER TABLE {t} ADD CONSTRAINT {q(n)} {d}" for t, n, d, kind in constraints if kind == "f"]
    )


def load_sql(size: dict, today: date) -> dict:
    from django.db import connection
    from django.utils import timezone

    from gonghui.demo.federation import GIVEN, SURNAMES
    from gonghui.members.models import NEW_EMPLOYMENT_FORMS

    members, chunk = size["members"], size["chunk"]
    people = members + int(members * NO_HOLDING)
    now = timezone.now()
    common = {
        "span": (today - date(2000, 1, 1)).days,
        "history": HISTORY,
        "moved": MOVED,
        "now": now,
        "today": today,
    }
    timings = {}
    with connection.cursor() as cursor:
        recreate = drop_indexes(cursor, LOADED_TABLES)
        started = time.perf_counter()
        # Members per union: lognormal weights (joint unions of small firms smaller), cut into consecutive ranges of
        # person serials [lo, hi) that add up to exactly `members`.
        cursor.execute(
            """
            CREATE TABLE bench_unions AS
            WITH u AS (
                SELECT o.id AS org_id, o.path, o.depth, (row_number() OVER (ORDER BY o.path) - 1)::int AS idx,
                       exp(%(sigma)s * sqrt(-2 * ln((get_byte(h, 0) * 256 + get_byte(h, 1) + 0.5) / 65536.0))
                           * cos(2 * pi() * (get_byte(h, 2) * 256 + get_byte(h, 3)) / 65536.0))
                       * CASE WHEN o.org_type = 'joint_grassroots' THEN 0.6 ELSE 1 END AS w
                FROM orgs_organisation o CROSS JOIN LATERAL (SELECT decode(md5('u' || o.code), 'hex') AS h) x
                WHERE o.org_type IN ('grassroots', 'joint_grassroots')
            ), c AS (
                SELECT *, round(%(members)s * sum(w) OVER (ORDER BY idx) / sum(w) OVER ())::bigint + 1 AS hi FROM u
            )
            SELECT idx, org_id, path, depth, coalesce(lag(hi) OVER (ORDER BY idx), 1) AS lo, hi, NULL::uuid AS town_id
            FROM c
            """,
            {"sigma": SIZE_SIGMA, "members": members},
        )
        cursor.execute("ALTER TABLE bench_unions ADD PRIMARY KEY (idx)")
        cursor.execute(
            """
            UPDATE bench_unions b SET town_id = (
                SELECT t.id FROM orgs_organisation t
                WHERE t.path IN (SELECT substr(b.path, 1, 4 * k) FROM generate_series(1, b.depth - 1) k)
                  AND t.org_type IN ('town', 'park')
                ORDER BY t.depth DESC LIMIT 1
            )
            """
        )
        cursor.execute(
            "CREATE TABLE bench_towns AS SELECT (row_number() OVER (ORDER BY path) - 1)::int AS idx, id "
            "FROM orgs_organisation WHERE org_type IN ('town', 'park')"
        )
        cursor.execute("SELECT count(*), max(hi) - 1 FROM bench_unions")
        unions, top = cursor.fetchone()
        assert top == members, (top, members)
        cursor.execute("SELECT count(*) FROM bench_towns")
        towns = cursor.fetchone()[0]

        say(f"[dashboard]   people: {people:,} ...")
        for lo in range(1, people + 1, chunk):
            hi = min(people, lo + chunk - 1)
            cursor.execute(
                f"""
                INSERT INTO members_person (
                    id, name, doc_type, doc_number_enc, doc_index, doc_masked, birth_date, sex, region_code,
                    phone_enc, phone_index, phone_masked, ethnicity, education, political_status, hukou_type,
                    employment_form, work_unit, post, skill_level, is_model_worker, remarks, quality_flags,
                    created_at, updated_at
                )
                SELECT md5('p' || s)::uuid,
                       (%(surnames)s::text[])[1 + mod(get_byte(h, 0), %(ns)s)]
                       || (%(given)s::text[])[1 + mod(get_byte(h, 1), %(ng)s)]
                       || CASE WHEN get_byte(h, 2) < 77 THEN ''
                               ELSE (%(given)s::text[])[1 + mod(get_byte(h, 3), %(ng)s)] END,
                       'resident_id', h, md5('doc' || s), %(region)s || '********' || lpad(mod(s, 10000)::text, 4, '0'),
                       birth, CASE WHEN get_byte(h, 6) < %(male)s THEN 'M' ELSE 'F' END, %(region)s,
                       CASE WHEN no_phone THEN NULL ELSE h2 END,
                       CASE WHEN no_phone THEN '' ELSE md5('ph' || CASE WHEN get_byte(h2, 8) < %(shared)s
                                                                    THEN s - 1 ELSE s END) END,
                       CASE WHEN no_phone THEN '' ELSE '138****' || lpad(mod(s, 10000)::text, 4, '0') END,
                       '汉族', '', '',
                       CASE WHEN get_byte(h, 7) < %(agri)s THEN 'agricultural'
                            WHEN get_byte(h, 7) < %(nonagri)s THEN 'non_agricultural' ELSE '' END,
                       CASE WHEN get_byte(h, 8) < %(new_forms)s
                            THEN (%(forms)s::text[])[1 + mod(get_byte(h, 9), %(nf)s)]
                            WHEN get_byte(h, 8) >= %(form_blank)s THEN '' ELSE 'standard' END,
                       '', '', '', false, '', 0, %(now)s, %(now)s
                {PERSON_ROWS}
                CROSS JOIN LATERAL (
                    SELECT get_byte(h2, 6) * 256 + get_byte(h2, 7) < %(no_phone)s AS no_phone
                ) ph
                """,  # noqa: S608 (a constant fragment)
                {
                    "lo": lo,
                    "hi": hi,
                    "surnames": list(SURNAMES),
                    "ns": len(SURNAMES),
                    "given": list(GIVEN),
                    "ng": len(GIVEN),
                    "region": REGION,
                    "male": MALE,
                    "agri": AGRICULTURAL,
                    "nonagri": NON_AGRICULTURAL,
                    "new_forms": NEW_FORMS,
                    "forms": sorted(NEW_EMPLOYMENT_FORMS),
                    "nf": len(NEW_EMPLOYMENT_FORMS),
                    "form_blank": FORM_BLANK,
                    "no_phone": NO_PHONE,
                    "shared": SHARED_PHONE,
                    "now": now,
                },
            )
            elapsed = time.perf_counter() - started
            say(f"[dashboard]     {hi:>10,} people, {elapsed:6.1f} s ({hi / elapsed:,.0f}/s)")
        timings["people_seconds"] = time.perf_counter() - started

        say(f"[dashboard]   memberships: {members:,} held in {unions:,} unions, and ended ones ...")
        started = time.perf_counter()
        cursor.execute("SELECT idx, hi FROM bench_unions ORDER BY idx")
        bounds, first, done = [], 0, 0
        for idx, hi in cursor.fetchall():
            if hi - 1 - done >= chunk:
                bounds.append((first, idx + 1, hi - 1))
                first, done = idx + 1, hi - 1
        if first < unions:
            bounds.append((first, unions, members))
        for first, stop, reached in bounds:
            params = {**common, "first": first, "stop": stop, "unions": unions}
            # The earlier membership (ended) of those who hold one now: in another union; transferred out to the
            # current one (whose start is that day), or left some time before joining again.
            cursor.execute(
                f"""
                INSERT INTO members_membership ({MEMBERSHIP_COLUMNS})
                SELECT md5('e' || s)::uuid, md5('p' || s)::uuid, o.org_id,
                       CASE WHEN moved THEN 'transferred_out' ELSE 'left' END, earlier_joined,
                       CASE WHEN get_byte(h, 13) < 200 THEN 'import' ELSE 'cadre' END,
                       'E' || lpad(s::text, 11, '0'),
                       CASE WHEN moved THEN joined
                            ELSE greatest(
                                earlier_joined, joined - (30 + mod(get_byte(h2, 2) * 256 + get_byte(h2, 3), 700))
                            )
                       END,
                       '', NULL, %(now)s, %(now)s
                {MEMBER_ROWS}
                JOIN bench_unions o
                  ON o.idx = mod(u.idx + 1 + mod(get_byte(h2, 4) * 256 + get_byte(h2, 5), %(unions)s - 1), %(unions)s)
                {IN_CHUNK} AND history
                """,  # noqa: S608 (constant fragments)
                params,
            )
            cursor.execute(
                f"""
                INSERT INTO members_membership ({MEMBERSHIP_COLUMNS})
                SELECT md5('m' || s)::uuid, md5('p' || s)::uuid, u.org_id,
                       CASE WHEN get_byte(h, 12) < {RESERVED} THEN 'reserved' ELSE 'active' END,
                       CASE WHEN moved THEN earlier_joined ELSE joined END,
                       CASE WHEN moved THEN 'transfer_in' WHEN get_byte(h, 13) < 200 THEN 'import'
                            WHEN get_byte(h, 13) < 230 THEN 'cadre' ELSE 'online' END,
                       'C' || lpad(s::text, 11, '0'), NULL, '',
                       CASE WHEN moved THEN md5('e' || s)::uuid END, %(now)s, %(now)s
                {MEMBER_ROWS}
                {IN_CHUNK}
                """,  # noqa: S608 (constant fragments)
                params,
            )
            elapsed = time.perf_counter() - started
            say(f"[dashboard]     {reached:>10,} members, {elapsed:6.1f} s ({reached / elapsed:,.0f}/s)")
        # People whose only membership has ended (left or cancelled), at any time up to today.
        cursor.execute(
            f"""
            INSERT INTO members_membership ({MEMBERSHIP_COLUMNS})
            SELECT md5('e' || s)::uuid, md5('p' || s)::uuid, u.org_id,
                   CASE WHEN get_byte(h2, 0) < 230 THEN 'left' ELSE 'cancelled' END, joined,
                   CASE WHEN get_byte(h, 13) < 200 THEN 'import' ELSE 'online' END,
                   'E' || lpad(s::text, 11, '0'),
                   joined + floor((%(today)s::date - joined) * get_byte(h2, 1) / 256.0)::int,
                   '', NULL, %(now)s, %(now)s
            {PERSON_ROWS}
            {JOINED}
            JOIN bench_unions u ON u.idx = mod(get_byte(h2, 4) * 256 + get_byte(h2, 5), %(unions)s)
            """,  # noqa: S608
            {**common, "lo": members + 1, "hi": people, "unions": unions},
        )
        timings["memberships_seconds"] = time.perf_counter() - started

        started = time.perf_counter()
        cursor.execute(
            """
            INSERT INTO orgs_employer (
                id, name, uscc, employee_count, industry, address, created_at, updated_at, covering_union_id,
                town_org_id
            )
            SELECT md5('emp' || s)::uuid, '基准测试' || s || '有限公司', '91' || lpad(s::text, 16, '0'),
                   CASE WHEN covered THEN floor(power(10, 1.0 + 2.0 * get_byte(h, 4) / 255.0))
                        ELSE floor(power(10, 0.5 + 2.0 * get_byte(h, 4) / 255.0)) END::int,
                   (ARRAY['C', 'C', 'C', 'C', 'G', 'E', 'F', 'H', 'I', 'L'])[1 + mod(get_byte(h, 5), 10)],
                   '', %(now)s, %(now)s,
                   CASE WHEN covered THEN u.org_id END,
                   CASE WHEN covered THEN coalesce(u.town_id, t.id) ELSE t.id END
            FROM generate_series(1, %(employers)s) s
            CROSS JOIN LATERAL (SELECT decode(md5('emp' || s), 'hex') AS h) x
            CROSS JOIN LATERAL (SELECT get_byte(h, 0) < %(covered)s AS covered) c
            JOIN bench_unions u ON u.idx = mod(get_byte(h, 1) * 256 + get_byte(h, 2), %(unions)s)
            JOIN bench_towns t ON t.idx = mod(get_byte(h, 3), %(towns)s)
            """,
            {"now": now, "employers": size["employers"], "covered": COVERED, "unions": unions, "towns": towns},
        )
        # 实有会员数 declared by ~40% of the unions (half of them declared once before, a different total).
        cursor.execute(
            """
            INSERT INTO members_declaredtotal (id, org_id, total, as_of, recorded_by, recorded_at)
            SELECT md5(tag || u.idx)::uuid, u.org_id,
                   round((u.hi - u.lo) * (0.9 + 0.2 * get_byte(h, 1) / 255.0) + CASE WHEN tag = 'd0' THEN 7 ELSE 0 END),
                   CASE WHEN tag = 'd0' THEN %(older)s ELSE %(latest)s END, 'bench',
                   CASE WHEN tag = 'd0' THEN %(now)s - interval '300 days' ELSE %(now)s END
            FROM bench_unions u
            CROSS JOIN LATERAL (SELECT decode(md5('dt' || u.idx), 'hex') AS h) x
            CROSS JOIN LATERAL (VALUES ('d1'), ('d0')) v(tag)
            WHERE get_byte(h, 0) < %(declared)s AND (tag = 'd1' OR get_byte(h, 2) < 128)
            """,
            {
                "now": now,
                "declared": DECLARED,
                "latest": today - timedelta(days=30),
                "older": today - timedelta(days=400),
            },
        )
        timings["employers_seconds"] = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_unions")
        cursor.execute("DROP TABLE bench_towns")

        say(f"[dashboard]   indexes, unique constraints and foreign keys ({len(recreate)}) ...")
        started = time.perf_counter()
        cursor.execute("SET maintenance_work_mem = '1GB'")  # this session only: sorts for the index builds
        for statement in recreate:
            cursor.execute(statement)
        cursor.execute("RESET maintenance_work_mem")
        timings["indexes_seconds"] = time.perf_counter() - started
    return timings


# ---------------------------------------------------------------- loading in Python (SQLite, small size only)


def load_python(size: dict, today: date) -> dict:
    """The same shapes as load_sql, drawn with `random` and inserted with bulk_create."""
    from django.db import transaction

    from gonghui.demo.federation import GIVEN, SURNAMES
    from gonghui.members.models import NEW_EMPLOYMENT_FORMS, DeclaredTotal, Membership, Person
    from gonghui.orgs.models import GRASSROOTS_TYPES, Employer, Organisation

    started = time.perf_counter()
    rng = random.Random(SEED)
    members = size["members"]
    unions = list(Organisation.objects.filter(org_type__in=GRASSROOTS_TYPES).order_by("path"))
    towns = list(Organisation.objects.filter(org_type__in=("town", "park")).order_by("path"))
    town_of = {}
    for union in unions:
        above = [t for t in towns if union.path.startswith(t.path)]
        town_of[union.id] = max(above, key=lambda t: t.depth).id if above else towns[0].id
    weights = [rng.lognormvariate(0, SIZE_SIGMA) * (0.6 if u.org_type == "joint_grassroots" else 1.0) for u in unions]
    total_weight, cum, bounds, previous = sum(weights), 0.0, [], 0
    for w in weights:
        cum += w
        hi = round(members * cum / total_weight)
        bounds.append(hi - previous)
        previous = hi
    forms = sorted(NEW_EMPLOYMENT_FORMS)
    span = (today - date(2000, 1, 1)).days

    def person(serial: int) -> tuple[Person, date, date]:
        birth = date(1960, 1, 1) + timedelta(days=rng.randrange(17166))
        b = rng.randrange(256)
        form = rng.choice(forms) if b < NEW_FORMS else "" if b >= FORM_BLANK else "standard"
        h = rng.randrange(256)
        hukou = "agricultural" if h < AGRICULTURAL else "non_agricultural" if h < NON_AGRICULTURAL else ""
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() > 0.3 else "")
        p = Person(
            id=_uuid("p", serial),
            name=name,
            doc_type="resident_id",
            doc_number_enc=b"bench",
            doc_index=hashlib.md5(f"doc{serial}".encode()).hexdigest(),  # noqa: S324 (not security)
            doc_masked=f"{REGION}********{serial % 10000:04d}",
            birth_date=birth,
            sex="M" if rng.randrange(256) < MALE else "F",
            region_code=REGION,
            ethnicity="汉族",
            hukou_type=hukou,
            employment_form=form,
        )
        if rng.randrange(65536) >= NO_PHONE:
            phone = serial - 1 if rng.randrange(256) < SHARED_PHONE else serial
            p.phone_enc = b"bench"
            p.phone_index = hashlib.md5(f"ph{phone}".encode()).hexdigest()  # noqa: S324 (not security)
            p.phone_masked = f"138****{serial % 10000:04d}"
        sixteen = date(birth.year + 16, birth.month, min(birth.day, 28))
        joined = max(date(2000, 1, 1) + timedelta(days=int(span * math.sqrt(rng.random()))), sixteen)
        return p, joined, sixteen

    people, memberships, serial = [], [], 0
    for index, (union, count) in enumerate(zip(unions, bounds, strict=True)):
        for _ in range(count):
            serial += 1
            p, joined, sixteen = person(serial)
            people.append(p)
            status = "reserved" if rng.randrange(256) < RESERVED else "active"
            source, joined_on, previous = rng.choice(["import"] * 6 + ["cadre", "online"]), joined, None
            if rng.randrange(256) < HISTORY:
                moved = rng.randrange(256) < MOVED
                earlier = max(joined - timedelta(days=200 + rng.randrange(3000)), sixteen)
                other = unions[(index + 1 + rng.randrange(len(unions) - 1)) % len(unions)]
                ended = joined if moved else max(earlier, joined - timedelta(days=30 + rng.randrange(700)))
                previous = Membership(
                    id=_uuid("e", serial),
                    person_id=p.id,
                    org_id=other.id,
                    status="transferred_out" if moved else "left",
                    joined_on=earlier,
                    source="import",
                    card_number=f"E{serial:011d}",
                    ended_on=ended,
                )
                memberships.append(previous)
                if moved:
                    source, joined_on = "transfer_in", earlier
                else:
                    previous = None
            memberships.append(
                Membership(
                    id=_uuid("m", serial),
                    person_id=p.id,
                    org_id=union.id,
                    status=status,
                    joined_on=joined_on,
                    source=source,
                    card_number=f"C{serial:011d}",
                    previous_id=previous.id if previous else None,
                )
            )
    for _ in range(int(members * NO_HOLDING)):
        serial += 1
        p, joined, _sixteen = person(serial)
        people.append(p)
        memberships.append(
            Membership(
                id=_uuid("e", serial),
                person_id=p.id,
                org_id=rng.choice(unions).id,
                status="left" if rng.random() < 0.9 else "cancelled",
                joined_on=joined,
                source="import",
                card_number=f"E{serial:011d}",
                ended_on=joined + timedelta(days=int((today - joined).days * rng.random())),
            )
        )
    employers = []
    for i in range(size["employers"]):
        covered = rng.randrange(256) < COVERED
        union = rng.choice(unions)
        low = 1.0 if covered else 0.5
        employers.append(
            Employer(
                id=_uuid("emp", i),
                name=f"基准测试{i}有限公司",
                uscc=f"91{i:016d}",
                employee_count=int(10 ** (low + 2.0 * rng.random())),
                industry="C",
                covering_union_id=union.id if covered else None,
                town_org_id=town_of[union.id] if covered else rng.choice(towns).id,
            )
        )
    declared = []
    for union, count in zip(unions, bounds, strict=True):
        if rng.randrange(256) < DECLARED:
            total = round(count * (0.9 + 0.2 * rng.random()))
            declared.append(DeclaredTotal(org=union, total=total, as_of=today - timedelta(days=30), recorded_by="b"))
            if rng.random() < 0.5:
                older = today - timedelta(days=400)
                declared.append(DeclaredTotal(org=union, total=total + 7, as_of=older, recorded_by="b"))
    with transaction.atomic():
        Person.objects.bulk_create(people, batch_size=2000)
        Membership.objects.bulk_create([m for m in memberships if m.status not in ("active", "reserved")], 2000)
        Membership.objects.bulk_create([m for m in memberships if m.status in ("active", "reserved")], 2000)
        Employer.objects.bulk_create(employers, batch_size=2000)
        DeclaredTotal.objects.bulk_create(declared, batch_size=2000)
    return {"people_seconds": time.perf_counter() - started}


def _uuid(tag: str, serial: int):
    import uuid

    return uuid.UUID(hashlib.md5(f"{tag}{serial}".encode()).hexdigest())  # noqa: S324 (not security)


# ---------------------------------------------------------------- the naive way: one aggregate over the registry

NAIVE_SQL = """
SELECT
    COUNT(*) FILTER (WHERE holding) AS members,
    COUNT(*) FILTER (WHERE status = 'active') AS active,
    COUNT(*) FILTER (WHERE status = 'reserved') AS reserved,
    COUNT(*) FILTER (WHERE holding AND sex = 'M') AS male,
    COUNT(*) FILTER (WHERE holding AND sex = 'F') AS female,
    COUNT(*) FILTER (WHERE holding AND employment_form IN ({new_forms})) AS new_employment,
    COUNT(*) FILTER (WHERE holding AND hukou_type = 'agricultural') AS migrant,
    {form_counts},
    COUNT(*) FILTER (WHERE source <> 'transfer_in' AND joined_on BETWEEN %(start)s AND %(reached)s) AS joined,
    COUNT(*) FILTER (
        WHERE source <> 'transfer_in' AND joined_on BETWEEN %(before_start)s AND %(before_end)s
    ) AS joined_before,
    COUNT(*) FILTER (WHERE source = 'transfer_in' AND started BETWEEN %(start)s AND %(reached)s) AS transferred_in,
    COUNT(*) FILTER (
        WHERE status = 'transferred_out' AND ended_on BETWEEN %(start)s AND %(reached)s
    ) AS transferred_out,
    COUNT(*) FILTER (WHERE status IN ('left', 'cancelled') AND ended_on BETWEEN %(start)s AND %(reached)s) AS "left",
    COUNT(*) FILTER (WHERE started BETWEEN %(start)s AND %(reached)s)
        - COUNT(*) FILTER (WHERE ended_on BETWEEN %(start)s AND %(reached)s) AS net_change,
    COUNT(*) FILTER (
        WHERE started <= %(before_end)s AND (ended_on IS NULL OR ended_on > %(before_end)s)
    ) AS members_before,
    COUNT(*) FILTER (
        WHERE started <= %(before_end)s AND (ended_on IS NULL OR ended_on > %(before_end)s)
          AND employment_form IN ({new_forms})
    ) AS new_employment_before
FROM (
    SELECT m.status, m.status IN ('active', 'reserved') AS holding, m.source, m.joined_on, m.ended_on,
           p.sex, p.employment_form, p.hukou_type,
           CASE WHEN m.source = 'transfer_in' AND m.previous_id IS NOT NULL
                THEN (SELECT q.ended_on FROM members_membership q WHERE q.id = m.previous_id)
                ELSE m.joined_on END AS started
    FROM members_membership m
    JOIN members_person p ON p.id = m.person_id
    JOIN orgs_organisation o ON o.id = m.org_id
    WHERE o.path LIKE %(prefix)s
) r
"""


def naive_sql() -> str:
    from gonghui.members.models import NEW_EMPLOYMENT_FORMS, EmploymentForm

    new_forms = ", ".join(f"'{f}'" for f in sorted(NEW_EMPLOYMENT_FORMS))
    known = ", ".join(f"'{f.value}'" for f in EmploymentForm)
    counts = [
        f"COUNT(*) FILTER (WHERE holding AND employment_form = '{f.value}') AS form_{f.value}" for f in EmploymentForm
    ]
    counts.append(f"COUNT(*) FILTER (WHERE holding AND employment_form NOT IN ({known})) AS form_unknown")
    return NAIVE_SQL.format(new_forms=new_forms, form_counts=",\n    ".join(counts))


# ---------------------------------------------------------------- timing the parts of rebuild_counts


@contextmanager
def timed_parts(module, names: tuple[str, ...], into: dict):
    """Wrap the module-level functions `names` of `module` (those it has) so each call's time is added to
    `into[name]`."""
    originals = {name: getattr(module, name) for name in names if hasattr(module, name)}

    def wrap(name, fn):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                into[name] = into.get(name, 0.0) + time.perf_counter() - started

        return wrapper

    for name, fn in originals.items():
        setattr(module, name, wrap(name, fn))
    try:
        yield
    finally:
        for name, fn in originals.items():
            setattr(module, name, fn)


# What `gonghui.members.figures.rebuild_counts` calls, timed apart.
REBUILD_PARTS = (
    "own_member_figures",
    "latest_declared_by_union",
    "figures_rebuild",
    "failing_refresh",
    "failing_by_union",
    "figures_failing_replace",
)
# What `gonghui.stats.selectors.dashboard` calls, timed apart during the timed requests.
DASHBOARD_PARTS = (
    "headlines",
    "monthly_trend",
    "breakdowns",
    "child_rows",
    "pending_work",
    "case_figures",
    "service_figures",
)


class QueryLog:
    """A database execute wrapper that keeps (milliseconds, sql) of every query."""

    def __init__(self):
        self.rows: list[tuple[float, str]] = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.rows.append(((time.perf_counter() - started) * 1000, sql))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------- the bench


def run(size: dict, size_name: str) -> None:
    from django.db import connection, transaction
    from django.db.models import F
    from django.test import Client
    from django.utils import timezone

    import gonghui.api.stats as stats_api
    import gonghui.members.figures as member_figures
    import gonghui.orgs.figures as org_figures
    import gonghui.stats.selectors.overview as stats_selectors  # where `dashboard` looks up the parts it calls
    from gonghui.accounts.services import api_token_create
    from gonghui.common.actor import system_actor
    from gonghui.demo.federation import ROOT, build_federation
    from gonghui.members.models import HOLDING_STATUSES, DeclaredTotal, Membership, Person
    from gonghui.orgs.models import (
        GRASSROOTS_TYPES,
        Employer,
        OrgAgeFigures,
        Organisation,
        OrgFigures,
        OrgMonthFigures,
        OrgType,
    )
    from gonghui.orgs.services import org_create, org_tree_bulk_create
    from gonghui.stats.periods import period_from
    from gonghui.stats.selectors import year_earlier_until

    vendor = connection.vendor
    if vendor != "postgresql" and size_name == "full":
        raise SystemExit("the full size needs PostgreSQL")
    actor = system_actor("bench")
    today = timezone.localdate()
    say(
        f"[dashboard] database: {vendor}; size: {size_name} ({size['members']:,} members, {size['orgs']:,} "
        f"organisations, {size['employers']:,} employers); today {today}"
    )

    say("[dashboard] building the tree ...")
    started = time.perf_counter()
    federation = build_federation(orgs=size["orgs"], seed=11)
    name, code, region = ROOT
    with transaction.atomic():
        org_create(actor=actor, parent=None, name=name, code=code, org_type=OrgType.CITY, region_code=region)
        org_tree_bulk_create(actor=actor, specs=federation.specs)
    org_seconds = time.perf_counter() - started
    orgs = Organisation.objects.count()
    unions = Organisation.objects.filter(org_type__in=GRASSROOTS_TYPES).count()
    say(f"[dashboard]   {orgs:,} organisations ({unions:,} grassroots unions) in {org_seconds:.1f} s")

    say(f"[dashboard] loading members {'set-based in SQL' if vendor == 'postgresql' else 'with bulk_create'} ...")
    started = time.perf_counter()
    load_parts = load_sql(size, today) if vendor == "postgresql" else load_python(size, today)
    load_seconds = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            for table in ("members_person", "members_membership", "orgs_employer", "members_declaredtotal"):
                cursor.execute(f"VACUUM (ANALYZE) {table}")  # sets the visibility map, as autovacuum would
        cursor.execute("ANALYZE")
    analyze_seconds = time.perf_counter() - started
    people = Person.objects.count()
    rows = Membership.objects.count()
    members = Membership.objects.filter(status__in=HOLDING_STATUSES).count()
    employers = Employer.objects.count()
    declared = DeclaredTotal.objects.count()
    assert members == size["members"], members
    parts_text = ", ".join(f"{k.removesuffix('_seconds')} {v:.1f} s" for k, v in load_parts.items())
    say(
        f"[dashboard]   {members:,} members held ({rows:,} memberships with the ended ones, {people:,} people), "
        f"{employers:,} employers, {declared:,} declared totals in {load_seconds:.1f} s "
        f"({parts_text}); "
        f"VACUUM/ANALYZE {analyze_seconds:.1f} s"
    )
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
            say(f"[dashboard]   database size {cursor.fetchone()[0]}")

    say("[dashboard] rebuild_counts() (the recount `manage.py rebuild_counts` runs) ...")
    parts: dict[str, float] = defaultdict(float)
    rss_before = peak_rss_mb()
    started = time.perf_counter()
    with (
        timed_parts(member_figures, REBUILD_PARTS, parts),
        timed_parts(org_figures, ("_employer_own", "_rolled_up"), parts),
    ):
        with_figures = member_figures.rebuild_counts()
    rebuild_seconds = time.perf_counter() - started
    rss_after = peak_rss_mb()
    figures_part = rebuild_seconds - parts["failing_refresh"]
    counted = sum(parts[k] for k in ("own_member_figures", "latest_declared_by_union", "_employer_own", "_rolled_up"))
    writing = parts["figures_rebuild"] - counted
    say(f"[dashboard]   {with_figures:,} organisations with figures in {rebuild_seconds:.1f} s:")
    say(
        f"[dashboard]     member, employer and declared figures {figures_part:.1f} s: recount of the registry "
        f"(own_member_figures) {parts['own_member_figures']:.1f} s, declared totals "
        f"{parts['latest_declared_by_union']:.1f} s, employers {parts['_employer_own']:.1f} s, summing up the tree "
        f"(_rolled_up) {parts['_rolled_up']:.1f} s, the rest of figures_rebuild (replacing the rows) {writing:.1f} s"
    )
    say(
        f"[dashboard]     data-quality figure (failing_refresh) {parts['failing_refresh']:.1f} s: query "
        f"(failing_by_union) {parts['failing_by_union']:.1f} s, write (figures_failing_replace) "
        f"{parts['figures_failing_replace']:.1f} s"
    )
    say(f"[dashboard]     peak memory of the process {rss_before:,.0f} MB before, {rss_after:,.0f} MB after")
    table_rows = {
        "orgfigures": OrgFigures.objects.count(),
        "orgmonthfigures": OrgMonthFigures.objects.count(),
        "orgagefigures": OrgAgeFigures.objects.count(),
    }
    table_sizes = {}
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            for key in table_rows:
                cursor.execute("SELECT pg_total_relation_size(%s)", [f"orgs_{key}"])
                table_sizes[key] = cursor.fetchone()[0]
    for key, count in table_rows.items():
        on_disk = f", {table_sizes[key] / 2**20:,.1f} MB with indexes" if key in table_sizes else ""
        say(f"[dashboard]   orgs_{key:<16} {count:>10,} rows{on_disk}")
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) orgs_orgfigures")
            cursor.execute("VACUUM (ANALYZE) orgs_orgmonthfigures")
            cursor.execute("VACUUM (ANALYZE) orgs_orgagefigures")
            # The production setting docs/operations.md gives for SSD storage (PostgreSQL's default of 4 assumes
            # spinning disks and prefers hashing a whole table to a few hundred index look-ups).
            cursor.execute(f"SET random_page_cost = {RANDOM_PAGE_COST}")
        say(f"[dashboard] timing with random_page_cost = {RANDOM_PAGE_COST} (docs/operations.md)")

    # ---- the nodes: the largest of each level by members ----------------------------------------------------
    by_members = Organisation.objects.order_by(F("figures__members").desc(nulls_last=True), "path")
    nodes = {
        "root": Organisation.objects.get(depth=1),
        "district": by_members.filter(org_type=OrgType.COUNTY).first(),
        "town": by_members.filter(org_type=OrgType.TOWN).first(),
        "grassroots": by_members.filter(org_type__in=GRASSROOTS_TYPES).first(),
    }
    _token, raw = api_token_create(actor=actor, org=nodes["root"], name="bench")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    repeat = size["repeat"]
    figures: dict = {}
    answers: dict = {}
    say(f"[dashboard] GET /api/v1/stats/orgs/{{id}}/dashboard (this year), {repeat} calls each after a warm-up:")
    for label, node in nodes.items():
        url = f"/api/v1/stats/orgs/{node.id}/dashboard"
        response = client.get(url)  # warm-up, and the correctness check
        assert response.status_code == 200, (label, response.status_code, response.content[:500])
        body = response.json()
        answers[label] = body
        direct = Membership.objects.filter(org__path__startswith=node.path, status__in=HOLDING_STATUSES).count()
        assert body["headline"]["members"] == direct, (label, body["headline"]["members"], direct)
        log = QueryLog()
        with connection.execute_wrapper(log):
            client.get(url)

        def call(url=url, label=label):
            response = client.get(url)
            assert response.status_code == 200, (label, response.status_code)

        spent: dict[str, float] = {}
        with timed_parts(stats_selectors, DASHBOARD_PARTS, spent), timed_parts(stats_api, ("dashboard",), spent):
            samples = timed_ms(call, repeat)
        mean = sum(samples) / len(samples)
        each = {name: ms * 1000 / repeat for name, ms in spent.items()}
        called = [name for name in DASHBOARD_PARTS if name in each]
        figures[f"{label}_p50_ms"] = p50(samples)
        figures[f"{label}_p95_ms"] = p95(samples)
        figures[f"{label}_queries"] = len(log.rows)
        figures[f"{label}_sql_ms"] = round(sum(ms for ms, _ in log.rows), 2)
        figures[f"{label}_members"] = direct
        figures[f"{label}_children"] = body["children_total"]
        figures[f"{label}_children_shown"] = len(body["children"])
        figures[f"{label}_response_kib"] = round(len(response.content) / 1024)
        slowest_ms, slowest_sql = max(log.rows)
        say(
            f"[dashboard]   {label:<10} {direct:>10,} members, {body['children_total']:>4} children "
            f"({len(body['children'])} shown): "
            f"p50 {p50(samples):7.2f} ms  p95 {p95(samples):7.2f} ms  ({len(log.rows)} queries, "
            f"{figures[f'{label}_sql_ms']:.1f} ms in SQL on one call; {len(response.content) / 1024:,.0f} KiB)"
        )
        say(
            f"[dashboard]     mean {mean:.1f} ms = selector {each['dashboard']:.1f} ms ("
            + ", ".join(f"{name} {each[name]:.1f}" for name in called)
            + f") + auth, serialising and the rest {mean - each['dashboard']:.1f} ms; slowest query "
            f"{slowest_ms:.1f} ms: {' '.join(slowest_sql.split())[:110]}"
        )

    # ---- the naive way ----------------------------------------------------------------------------------------
    period = period_from({}, today=today)
    reached = period.until(today)
    earlier = year_earlier_until(period, today)
    sql = naive_sql()
    naive_repeat = size["naive_repeat"]
    say(
        f"[dashboard] naive: the headline figures by one aggregate over the member table ({naive_repeat} runs each; "
        f"period {period.start}..{reached}, compared {earlier.start}..{earlier.end}):"
    )

    def direct(node) -> dict:
        params = {
            "prefix": f"{node.path}%",
            "start": period.start,
            "reached": reached,
            "before_start": earlier.start,
            "before_end": earlier.end,
        }
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            names = [c[0] for c in cursor.description]
            return dict(zip(names, cursor.fetchone(), strict=True))

    compared = (
        "members",
        "members_before",
        "joined",
        "joined_before",
        "net_change",
        "transferred_in",
        "transferred_out",
        "left",
        "new_employment",
        "new_employment_before",
        "female",
        "migrant",
    )
    for label in ("root", "district"):
        node = nodes[label]
        counted = direct(node)  # also warms the cache
        headline = answers[label]["headline"]
        wrong = {k: (headline[k], counted[k]) for k in compared if headline[k] != counted[k]}
        assert not wrong, f"{label}: dashboard vs direct count differ (dashboard, direct): {wrong}"
        forms = dict(answers[label]["breakdowns"][2]["rows"])
        assert sum(forms.values()) == counted["members"]
        samples = timed_ms(lambda node=node: direct(node), naive_repeat)
        figures[f"direct_{label}_p50_ms"] = p50(samples)
        figures[f"direct_{label}_p95_ms"] = p95(samples)
        ratio = p50(samples) / figures[f"{label}_p50_ms"]
        figures[f"direct_{label}_ratio_p50"] = round(ratio, 1)
        say(
            f"[dashboard]   {label:<10} p50 {p50(samples):9.1f} ms  p95 {p95(samples):9.1f} ms   "
            f"= {ratio:,.0f}x the dashboard's p50 (which also draws the trend, breakdowns, children and pending work)"
        )
        say(
            f"[dashboard]     agrees with the dashboard: members {counted['members']:,} (a year earlier "
            f"{counted['members_before']:,}), joined {counted['joined']:,} ({counted['joined_before']:,}), "
            f"transfers in/out {counted['transferred_in']:,}/{counted['transferred_out']:,}, left "
            f"{counted['left']:,}, 新就业形态 {counted['new_employment']:,}, 农民工 {counted['migrant']:,}"
        )
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "EXPLAIN (ANALYZE, BUFFERS) " + sql,
                {
                    "prefix": f"{nodes['root'].path}%",
                    "start": period.start,
                    "reached": reached,
                    "before_start": earlier.start,
                    "before_end": earlier.end,
                },
            )
            say("[dashboard]   plan of the direct aggregate at the root:")
            for (line,) in cursor.fetchall():
                say(f"[dashboard]     {line}")

    say(f"[dashboard] load average now: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    met = {f"{label}_p95_ms": figures[f"{label}_p95_ms"] <= TARGET_MS for label in nodes}
    for key, ok in met.items():
        say(f"[dashboard]   {key:<18} {figures[key]:8.2f} ms (target <= {TARGET_MS:g} ms)  {'met' if ok else 'MISSED'}")
    result(
        {
            "bench": "dashboard",
            "size": size_name,
            "db": vendor,
            "orgs": orgs,
            "unions": unions,
            "members": members,
            "memberships": rows,
            "people": people,
            "employers": employers,
            "declared_totals": declared,
            "org_build_seconds": round(org_seconds, 2),
            "load_seconds": round(load_seconds, 2),
            **{k: round(v, 2) for k, v in load_parts.items()},
            "analyze_seconds": round(analyze_seconds, 2),
            "rebuild_seconds": round(rebuild_seconds, 2),
            "rebuild_member_figures_seconds": round(figures_part, 2),
            "rebuild_own_member_figures_seconds": round(parts["own_member_figures"], 2),
            "rebuild_rolled_up_seconds": round(parts["_rolled_up"], 2),
            "rebuild_write_rows_seconds": round(writing, 2),
            "rebuild_figures_rebuild_seconds": round(parts["figures_rebuild"], 2),
            "rebuild_failing_refresh_seconds": round(parts["failing_refresh"], 2),
            "rebuild_failing_by_union_seconds": round(parts["failing_by_union"], 2),
            "rebuild_failing_replace_seconds": round(parts["figures_failing_replace"], 2),
            "rebuild_peak_rss_mb": round(rss_after),
            "figures_rows": table_rows,
            "figures_bytes": table_sizes,
            **figures,
            "load_average_end": [round(x, 2) for x in os.getloadavg()],
            "targets_met": met,
        }
    )


if __name__ == "__main__":
    main()
