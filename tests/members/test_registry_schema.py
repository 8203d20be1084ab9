"""The registry tables carry what the inserts of a roster import pay for, and no more (decision 27): on PostgreSQL
the keys are in the "C" collation, and the indexes are the ones the queries use."""

import pytest
from django.db import connection

from tests.conftest import is_postgres

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not is_postgres(), reason="collations and index definitions of PostgreSQL (members 0005, 0006)"),
]


def _indexes(table: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return dict(cursor.fetchall())


def test_registry_keys_and_name_compare_in_the_c_collation():
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT table_name, column_name, collation_name FROM information_schema.columns
            WHERE (table_name, column_name) IN (
                ('members_person', 'name'), ('members_person', 'doc_index'), ('members_person', 'phone_index'),
                ('members_membership', 'card_number')
            )
            """
        )
        assert {(t, c): coll for t, c, coll in cursor.fetchall()} == {
            ("members_person", "name"): "C",
            ("members_person", "doc_index"): "C",
            ("members_person", "phone_index"): "C",
            ("members_membership", "card_number"): "C",
        }


def test_person_indexes():
    indexes = _indexes("members_person")
    assert set(indexes) == {
        "members_person_pkey",
        "person_unique_document",
        "person_phone_idx",
        "person_name_birth_idx",
    }
    assert indexes["person_name_birth_idx"].endswith("USING btree (name, birth_date)")


def test_membership_indexes_are_the_five_queries_use_and_a_partial_one():
    indexes = _indexes("members_membership")
    assert set(indexes) == {
        "members_membership_pkey",
        "members_membership_person_id_12ff447c",
        "membership_one_holding_per_person",
        "membership_card_number_unique",
        "membership_org_status_idx",
        "membership_previous_idx",
    }
    assert indexes["membership_previous_idx"].endswith("WHERE (previous_id IS NOT NULL)")
    assert indexes["membership_card_number_unique"].startswith("CREATE UNIQUE INDEX")


def test_name_prefix_search_walks_the_name_index():
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            """EXPLAIN SELECT id FROM members_person WHERE name COLLATE "C" LIKE '王小%'
               ORDER BY name COLLATE "C" LIMIT 20"""
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "person_name_birth_idx" in plan
    assert "Index Cond" in plan
