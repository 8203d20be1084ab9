"""Roster import, merging one chunk: look up the registry facts of its rows, classify each row (new, returning,
already here, member elsewhere, name clash), work out profile changes, and merge the chunk set-based."""

from dataclasses import dataclass
from datetime import date
from uuid import UUID

import polars as pl
from django.db import connection, transaction
from django.utils import timezone

from gonghui.common.crypto import blind_index_many, encrypt_many
from gonghui.common.masking import mask_phone
from gonghui.common.sheets import LINE
from gonghui.imports.roster.load import _insert_members, _null_uuid, _sealed_people, _stage, _uuid_text
from gonghui.imports.roster.validate import PROFILE_COLUMNS, quality_flags_expr
from gonghui.members.models import (
    Person,
)
from gonghui.members.people import PHONE_CONTEXT
from gonghui.members.services import (
    NAME_MISMATCH_MESSAGE,
)
from gonghui.orgs.models import Organisation

COUNT_KEYS = ("added", "updated", "unchanged", "conflict", "duplicate", "error")


@dataclass(frozen=True)
class ChunkResult:
    counts: dict[str, int]
    outcomes: pl.DataFrame  # line, status, reason, name, person_id, holding_id for every row not simply added


def _seal_new_people(chunk: pl.DataFrame, found: pl.DataFrame, *, org: Organisation, today: date) -> pl.DataFrame:
    """The chunk's new people, sealed (no database access: runs in the sealing thread). Sealing is CPU work in Python
    (AES-GCM, HMAC); the writing thread spends most of a chunk waiting for PostgreSQL, so the two overlap."""
    ok = chunk.filter(pl.col("status") == "ok").join(found, on=LINE, how="left")
    return _sealed_people(_classify(ok, org=org).filter(pl.col("_kind") == "new"), today=today)


def _lookup_pending(rows: pl.DataFrame) -> pl.DataFrame:
    """The registry facts of every valid row still to import, in one join: a join per chunk read the whole person
    table each time (15 s of a million-row import). Rows of later chunks are distinct people (repeats are marked
    before), so no chunk changes what another one's lookup finds; a registration by someone else meanwhile is
    refused by the unique keys at insert time, as with any lookup taken before a write."""
    ok = rows.filter(pl.col("status") == "ok")
    if not ok.height:
        return _lookup_schema()
    with transaction.atomic():
        return _lookup(ok)


def merge_chunk(
    chunk: pl.DataFrame,
    *,
    org: Organisation,
    mode: str,
    today: date,
    found: pl.DataFrame | None = None,
    sealed: pl.DataFrame | None = None,
) -> ChunkResult:
    """Merge one chunk of prepared rows into the registry (or, for a dry run, only classify them). Must run inside a
    transaction. `found` is the lookup of the chunk's rows (or of more); without it the chunk is looked up here.
    `sealed` is the chunk's new people sealed ahead (`_seal_new_people`); without it they are sealed here."""
    outcomes = [
        chunk.filter(pl.col("status").is_in(["error", "duplicate"])).select(
            LINE, "status", "reason", "name", _null_uuid("person_id"), _null_uuid("holding_id")
        )
    ]
    ok = chunk.filter(pl.col("status") == "ok")
    counts = dict.fromkeys(COUNT_KEYS, 0)
    counts["error"] = outcomes[0].filter(pl.col("status") == "error").height
    counts["duplicate"] = outcomes[0].height - counts["error"]
    if ok.height:
        if found is None:
            found = _lookup(ok)
        rows = ok.join(found, on=LINE, how="left")
        classified = _classify(rows, org=org)
        name_clash = classified.filter(pl.col("_kind") == "name_clash")
        conflict = classified.filter(pl.col("_kind") == "elsewhere")
        here = classified.filter(pl.col("_kind") == "here")
        new_people = classified.filter(pl.col("_kind") == "new")
        returning = classified.filter(pl.col("_kind") == "returning")
        # Only this union's own member shows the name on record: for anyone else the report would answer, for any
        # number typed into a sheet, who is registered under which name and in which union.
        outcomes.append(
            name_clash.select(
                LINE, pl.lit("error").alias("status"),
                pl.when(pl.col("_holding_org") == str(org.id))
                .then(pl.format("姓名与该证件号码已登记的姓名（{}）不一致，请核对；如确需更正姓名，请在会员详情页办理",
                                pl.col("_registered_name")))
                .otherwise(pl.lit(NAME_MISMATCH_MESSAGE)).alias("reason"),
                "name", "person_id", _null_uuid("holding_id"),
            )
        )  # fmt: skip
        outcomes.append(
            conflict.select(
                LINE, pl.lit("conflict").alias("status"),
                pl.format("该人员已是其他工会会员（证件号码 {}），如已调入本单位，请发起会员接转",
                          pl.col("_masked")).alias("reason"),
                "name", "person_id", "holding_id",
            )
        )  # fmt: skip
        counts["error"] += name_clash.height
        counts["conflict"] += conflict.height
        updated_lines: set[int] = set()
        if mode == "upsert" and here.height:
            changes = _profile_changes(here, today=today)
            if changes.height:
                _apply_updates(changes)
                updated_lines = set(changes.get_column(LINE).to_list())
        unchanged = here.filter(~pl.col(LINE).is_in(list(updated_lines)))
        updated = here.filter(pl.col(LINE).is_in(list(updated_lines)))
        outcomes.append(
            updated.select(LINE, pl.lit("updated").alias("status"), pl.lit("已更新资料").alias("reason"), "name",
                           "person_id", _null_uuid("holding_id"))
        )  # fmt: skip
        reason_unchanged = "已是本会会员，资料未变" if mode != "add" else "已是本会会员（仅新增模式不更新资料）"
        outcomes.append(
            unchanged.select(LINE, pl.lit("unchanged").alias("status"), pl.lit(reason_unchanged).alias("reason"),
                             "name", "person_id", _null_uuid("holding_id"))
        )  # fmt: skip
        counts["updated"] += updated.height
        counts["unchanged"] += unchanged.height
        to_join = pl.concat([new_people, returning], how="vertical_relaxed")
        if to_join.height:
            if mode == "dry-run":
                counts["added"] += to_join.height
            else:
                lost = _insert_members(new_people, returning, org=org, today=today, sealed=sealed)
                counts["added"] += to_join.height - lost.height
                counts["conflict"] += lost.height
                outcomes.append(lost)
    frame = pl.concat([o.cast({"person_id": pl.String, "holding_id": pl.String}) for o in outcomes])
    return ChunkResult(counts=counts, outcomes=frame.sort(LINE))


def _lookup(ok: pl.DataFrame) -> pl.DataFrame:
    """Registry facts for each row, by the document's blind index: person, registered name, held membership."""
    staging = _stage(ok.select(LINE, "doc_type", "doc_index"), "gh_import_keys", {LINE: "bigint", "doc_type": "text",
                                                                                   "doc_index": "text"})  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT k._line, p.id, p.name, p.doc_masked, m.id, m.org_id, o.name
            FROM {staging} k
            JOIN members_person p ON p.doc_type = k.doc_type AND p.doc_index = k.doc_index
            LEFT JOIN members_membership m ON m.person_id = p.id AND m.status IN ('active', 'reserved')
            LEFT JOIN orgs_organisation o ON o.id = m.org_id
            """  # noqa: S608 (identifiers are module constants)
        )
        found = cursor.fetchall()
        cursor.execute(f"DROP TABLE {staging}")
    return pl.DataFrame(
        [
            (line, _uuid_text(pid), name, masked, _uuid_text(mid), _uuid_text(oid), oname)
            for line, pid, name, masked, mid, oid, oname in found
        ],
        schema=LOOKUP_SCHEMA,
        orient="row",
    )


LOOKUP_SCHEMA = {LINE: pl.Int64, "person_id": pl.String, "_registered_name": pl.String, "_masked": pl.String,
                 "holding_id": pl.String, "_holding_org": pl.String, "_holding_org_name": pl.String}  # fmt: skip


def _lookup_schema() -> pl.DataFrame:
    return pl.DataFrame(schema=LOOKUP_SCHEMA)


def _classify(rows: pl.DataFrame, *, org: Organisation) -> pl.DataFrame:
    here = str(org.id)
    return rows.with_columns(
        pl.when(pl.col("person_id").is_null())
        .then(pl.lit("new"))
        .when(pl.col("_registered_name") != pl.col("name"))
        .then(pl.lit("name_clash"))
        .when(pl.col("_holding_org").is_null())
        .then(pl.lit("returning"))
        .when(pl.col("_holding_org") == here)
        .then(pl.lit("here"))
        .otherwise(pl.lit("elsewhere"))
        .alias("_kind")
    )


def _profile_changes(here: pl.DataFrame, *, today: date) -> pl.DataFrame:
    """Rows of members already here whose file values (non-empty cells only) differ from the registry."""
    current = _current_profiles(here.get_column("person_id").to_list())
    rows = here.join(current, on="person_id", how="left")
    phones = rows.get_column("phone").drop_nulls().to_list()
    phone_indexes = dict(zip(phones, blind_index_many(phones, context=PHONE_CONTEXT), strict=True))
    rows = rows.with_columns(pl.col("phone").replace_strict(phone_indexes, default=None).alias("_phone_index"))
    differs = [pl.col(f).is_not_null() & (pl.col(f) != pl.col(f"cur_{f}")) for f in PROFILE_COLUMNS]
    differs.append(pl.col("_phone_index").is_not_null() & (pl.col("_phone_index") != pl.col("cur_phone_index")))
    changed = rows.filter(pl.any_horizontal(differs))
    if not changed.height:
        return changed
    merged = changed.with_columns(
        *[pl.coalesce(f, f"cur_{f}").alias(f) for f in PROFILE_COLUMNS],
        pl.coalesce("_phone_index", "cur_phone_index").alias("phone_index"),
        pl.col("cur_birth_date").alias("birth_date"),
        pl.col("cur_sex").alias("sex"),
    )
    merged = merged.with_columns(
        pl.when(pl.col("phone").is_null() & (pl.col("cur_phone_index") == "")).then(None).otherwise(
            pl.coalesce("phone", pl.lit("kept"))
        ).alias("_phone_for_flags")
    )  # fmt: skip
    flags = quality_flags_expr(today).alias("quality_flags")
    merged = merged.with_columns(pl.col("phone").alias("_new_phone"), pl.col("_phone_for_flags").alias("phone"))
    merged = merged.with_columns(
        (flags + (pl.col("cur_quality_flags") & 1)).alias("quality_flags"), pl.col("_new_phone").alias("phone")
    )
    return merged


def _current_profiles(person_ids: list[str]) -> pl.DataFrame:
    columns = [*PROFILE_COLUMNS, "phone_index", "birth_date", "sex", "quality_flags"]
    values = Person.objects.filter(id__in=person_ids).values_list("id", *columns)
    return pl.DataFrame(
        [(str(row[0]), *row[1:]) for row in values],
        schema={"person_id": pl.String, **{f"cur_{c}": _column_dtype(c) for c in columns}},
        orient="row",
    )


def _column_dtype(column: str):
    if column == "is_model_worker":
        return pl.Boolean
    if column == "birth_date":
        return pl.Date
    if column == "quality_flags":
        return pl.Int32
    return pl.String


def _apply_updates(changes: pl.DataFrame) -> None:
    phones = changes.get_column("_new_phone").to_list()
    given = [p for p in phones if p]
    sealed = dict(zip(given, encrypt_many(given, context=PHONE_CONTEXT), strict=True))
    people = []
    for row, phone in zip(changes.iter_rows(named=True), phones, strict=True):
        person = Person(id=UUID(row["person_id"]))
        for field in PROFILE_COLUMNS:
            value = row[field]
            setattr(person, field, value if value is not None else ("" if field != "is_model_worker" else False))
        person.quality_flags = row["quality_flags"]
        person.updated_at = timezone.now()
        if phone:
            person.phone_enc, person.phone_index, person.phone_masked = (
                sealed[phone],
                row["phone_index"],
                mask_phone(phone),
            )
        people.append(person)
    fields = [*PROFILE_COLUMNS, "quality_flags", "updated_at"]
    with_phone = [p for p, phone in zip(people, phones, strict=True) if phone]
    without_phone = [p for p, phone in zip(people, phones, strict=True) if not phone]
    if with_phone:
        Person.objects.bulk_update(with_phone, [*fields, "phone_enc", "phone_index", "phone_masked"], batch_size=2000)
    if without_phone:
        Person.objects.bulk_update(without_phone, fields, batch_size=2000)
