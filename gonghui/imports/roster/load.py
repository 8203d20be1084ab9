"""Roster import, loading: the set-based inserts of new people and memberships (sealed column-wise), and the staging
tables they and the lookup use — COPY on PostgreSQL, with its portable twin (executemany) on SQLite."""

import io
from datetime import UTC, date, datetime
from uuid import UUID

import polars as pl
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from gonghui.common.crypto import blind_index_many, encrypt_many
from gonghui.common.ids import new_public_ids
from gonghui.common.sheets import LINE
from gonghui.imports.roster.validate import (
    PROFILE_COLUMNS,
    quality_flags_expr,
)
from gonghui.members.models import (
    MembershipSource,
    MembershipStatus,
)
from gonghui.members.people import DOC_CONTEXT, PHONE_CONTEXT
from gonghui.members.services import (
    card_serials_reserve,
)
from gonghui.orgs.models import Organisation


def _null_uuid(name: str) -> pl.Expr:
    return pl.lit(None, dtype=pl.String).alias(name)


def _uuid_text(value) -> str | None:
    """Primary keys as the database adapter returns them: UUID on PostgreSQL, 32 hex characters on SQLite."""
    if value is None:
        return None
    return str(value if isinstance(value, UUID) else UUID(str(value)))


def _insert_members(
    new_people: pl.DataFrame,
    returning: pl.DataFrame,
    *,
    org: Organisation,
    today: date,
    sealed: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Insert the new people and a membership for them and for returning people (known, holding nothing). Returns
    the outcome rows of those the database refused (someone else registered them meanwhile)."""
    lost = []
    inserted_people = new_people
    if new_people.height:
        inserted_people, refused = _insert_people(new_people, today=today, sealed=sealed)
        if refused.height:
            lost.append(
                refused.select(LINE, pl.lit("conflict").alias("status"),
                               pl.lit("该人员刚由其他操作登记，请稍后重新导入本行").alias("reason"), "name",
                               _null_uuid("person_id"), _null_uuid("holding_id"))
            )  # fmt: skip
    joining = pl.concat(
        [inserted_people.select(LINE, "name", "person_id", "joined_on"), returning.select(LINE, "name", "person_id",
                                                                                          "joined_on")]
    )  # fmt: skip
    if joining.height:
        refused = _insert_memberships(joining, org=org, today=today)
        if refused.height:
            lost.append(
                refused.select(LINE, pl.lit("conflict").alias("status"),
                               pl.lit("该人员刚成为其他工会的会员，请核对后发起会员接转").alias("reason"), "name",
                               "person_id", _null_uuid("holding_id"))
            )  # fmt: skip
    if not lost:
        return pl.DataFrame(schema={LINE: pl.Int64, "status": pl.String, "reason": pl.String, "name": pl.String,
                                    "person_id": pl.String, "holding_id": pl.String})  # fmt: skip
    return pl.concat(lost)


PERSON_COLUMNS = (
    "id", "name", "doc_type", "doc_number_enc", "doc_index", "doc_masked", "birth_date", "sex", "region_code",
    "phone_enc", "phone_index", "phone_masked", *PROFILE_COLUMNS, "quality_flags", "created_at", "updated_at",
)  # fmt: skip
PERSON_SQL_TYPES = {
    "id": "uuid", "doc_number_enc": "bytea", "phone_enc": "bytea", "birth_date": "date", "is_model_worker": "boolean",
    "quality_flags": "integer", "created_at": "timestamptz", "updated_at": "timestamptz", LINE: "bigint",
}  # fmt: skip


def _sealed_people(rows: pl.DataFrame, *, today: date) -> pl.DataFrame:
    numbers = rows.get_column("doc_number").to_list()
    phones = rows.get_column("phone").to_list()
    given = sorted({p for p in phones if p})
    phone_sealed = dict(zip(given, encrypt_many(given, context=PHONE_CONTEXT), strict=True))
    phone_index = dict(zip(given, blind_index_many(given, context=PHONE_CONTEXT), strict=True))
    now = timezone.now()
    ids = new_public_ids(rows.height)
    text = [pl.col(f).fill_null("") for f in PROFILE_COLUMNS if f != "is_model_worker"]
    return rows.with_columns(
        pl.Series("id", [str(i) for i in ids]),
        pl.Series("doc_number_enc", encrypt_many(numbers, context=DOC_CONTEXT), dtype=pl.Binary),
        pl.Series("phone_enc", [phone_sealed[p] if p else None for p in phones], dtype=pl.Binary),
        pl.Series("phone_index", [phone_index[p] if p else "" for p in phones], dtype=pl.String),
        pl.when(pl.col("phone").is_null()).then(pl.lit("")).otherwise(
            pl.col("phone").str.slice(0, 3) + pl.lit("****") + pl.col("phone").str.slice(7, 4)
        ).alias("phone_masked"),
        pl.col("sex").fill_null(""),
        pl.col("region_code").fill_null(""),
        *text,
        pl.col("is_model_worker").fill_null(False),
        quality_flags_expr(today).alias("quality_flags"),
        pl.lit(now).alias("created_at"),
        pl.lit(now).alias("updated_at"),
    ).with_columns(_doc_mask_expr().alias("doc_masked"))  # fmt: skip


def _doc_mask_expr() -> pl.Expr:
    """masking.mask_document_number, column-wise."""
    number = pl.col("doc_number")
    length = number.str.len_chars()
    long = number.str.slice(0, 4) + pl.lit("*").repeat_by(length - 8).list.join("") + number.str.slice(-4, 4)
    short = number.str.slice(0, 1) + pl.lit("*").repeat_by(length - 1).list.join("")
    return pl.when(length <= 8).then(short).otherwise(long)


def _insert_people(
    rows: pl.DataFrame, *, today: date, sealed: pl.DataFrame | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Insert the new people (`sealed`: the same rows sealed ahead, used when it holds exactly these lines)."""
    lines = rows.get_column(LINE).sort()
    if sealed is None or not sealed.get_column(LINE).sort().equals(lines):
        sealed = _sealed_people(rows, today=today)
    sealed = sealed.sort(LINE)
    inserted = _insert_rows("members_person", sealed, PERSON_COLUMNS, PERSON_SQL_TYPES,
                            conflict="(doc_type, doc_index)", key="id")  # fmt: skip
    if inserted is None:
        return sealed.with_columns(pl.col("id").alias("person_id")), sealed.clear()
    done = sealed.filter(pl.col("id").is_in(list(inserted))).with_columns(pl.col("id").alias("person_id"))
    refused = sealed.filter(~pl.col("id").is_in(list(inserted)))
    return done, refused


def _copied_straight_in(table: str, frame: pl.DataFrame, types: dict[str, str]) -> bool:
    """PostgreSQL: COPY the rows straight into `table` under a savepoint. The lookup found none of them registered,
    so this is the usual case and costs one write per row instead of two (staging table, then INSERT ... SELECT).
    If another transaction registered one of these people since the lookup, a unique constraint refuses the COPY,
    the savepoint is rolled back and the caller takes the staged path, which skips the rows the database refuses."""
    if connection.vendor != "postgresql" or not frame.height:
        return False
    try:
        with transaction.atomic():
            _load_rows(table, frame, types)
    except IntegrityError:
        return False
    return True


def _insert_rows(
    table: str, frame: pl.DataFrame, columns: tuple[str, ...], types: dict[str, str], *, conflict: str, key: str
) -> set[str] | None:
    """Insert `frame` (sorted by line) into `table`: None when every row went in (straight COPY), else the `key`
    values of the rows the staged `INSERT … ON CONFLICT conflict DO NOTHING` inserted."""
    if _copied_straight_in(table, frame.select(*columns), types):
        return None
    staging = _stage(frame.select(LINE, *columns), f"gh_import_{table}", types)
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM {staging} ORDER BY {LINE} "  # noqa: S608 (identifiers are module constants)
            f"ON CONFLICT {conflict} DO NOTHING RETURNING {key}"
        )
        inserted = {text for row in cursor.fetchall() if (text := _uuid_text(row[0])) is not None}
        cursor.execute(f"DROP TABLE {staging}")
    return inserted


MEMBERSHIP_COLUMNS = ("id", "person_id", "org_id", "status", "joined_on", "source", "card_number", "end_reason",
                      "created_at", "updated_at")  # fmt: skip
MEMBERSHIP_SQL_TYPES = {"id": "uuid", "person_id": "uuid", "org_id": "uuid", "joined_on": "date",
                        "created_at": "timestamptz", "updated_at": "timestamptz", LINE: "bigint"}  # fmt: skip


def luhn_check_digits(bodies: pl.Expr, length: int) -> pl.Expr:
    """stdnum's Luhn check digit of a fixed-length digit string, column-wise."""
    total = pl.lit(0)
    for position in range(length):  # position 0 is the rightmost digit of the body
        digit = bodies.str.slice(length - 1 - position, 1).cast(pl.Int32)
        if position % 2 == 0:
            doubled = digit * 2
            total = total + pl.when(doubled > 9).then(doubled - 9).otherwise(doubled)
        else:
            total = total + digit
    return ((10 - total % 10) % 10).cast(pl.String)


def _insert_memberships(rows: pl.DataFrame, *, org: Organisation, today: date) -> pl.DataFrame:
    first = card_serials_reserve(org, today, rows.height)
    prefix = f"{org.region_code}{today.year:04d}"
    now = timezone.now()
    body = pl.lit(prefix) + (pl.int_range(first, first + rows.height, eager=False)).cast(pl.String).str.zfill(6)
    frame = rows.sort(LINE).with_columns(
        pl.Series("id", [str(i) for i in new_public_ids(rows.height)]),
        pl.lit(str(org.id)).alias("org_id"),
        pl.lit(MembershipStatus.ACTIVE.value).alias("status"),
        pl.lit(MembershipSource.IMPORT.value).alias("source"),
        body.alias("_body"),
        pl.lit("").alias("end_reason"),
        pl.lit(now).alias("created_at"),
        pl.lit(now).alias("updated_at"),
    )
    frame = frame.with_columns((pl.col("_body") + luhn_check_digits(pl.col("_body"), 16)).alias("card_number"))
    inserted = _insert_rows("members_membership", frame, MEMBERSHIP_COLUMNS, MEMBERSHIP_SQL_TYPES,
                            conflict="(person_id) WHERE status IN ('active', 'reserved')", key="person_id")  # fmt: skip
    if inserted is None:
        return frame.clear()
    return frame.filter(~pl.col("person_id").is_in(list(inserted)))


# ---------------------------------------------------------------------------------------------------------------
# Staging tables: COPY on PostgreSQL, executemany on SQLite


def _stage(frame: pl.DataFrame, name: str, types: dict[str, str]) -> str:
    """Load `frame` into a new temporary table `name` (dropped by the caller) and return the table name."""
    postgres = connection.vendor == "postgresql"
    ddl = ", ".join(
        f"{c} {types.get(c, 'text') if postgres else _sqlite_type(types.get(c, 'text'))}" for c in frame.columns
    )
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE {name} ({ddl})" + (" ON COMMIT DROP" if postgres else ""))
    _load_rows(name, frame, types)
    return name


def _load_rows(table: str, frame: pl.DataFrame, types: dict[str, str]) -> None:
    """Append `frame` to `table`: COPY on PostgreSQL, executemany on SQLite."""
    columns = ", ".join(frame.columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            data = _pg_copy_frame(frame)
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)") as copy,
            ):
                copy.write(data)
            return
        placeholders = ", ".join(["%s"] * len(frame.columns))
        kinds = [types.get(c, "text") for c in frame.columns]
        cursor.executemany(
            f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",  # noqa: S608 (identifiers are module constants)
            [tuple(_sqlite_value(v, k) for k, v in zip(kinds, row, strict=True)) for row in frame.iter_rows()],
        )


def _sqlite_type(sql_type: str) -> str:
    return {"uuid": "char(32)", "bytea": "blob", "bigint": "integer", "integer": "integer", "boolean": "bool"}.get(
        sql_type, "text"
    )


def _sqlite_value(value, sql_type: str):
    """Values as Django's SQLite backend stores them: UUIDs as 32 hex characters, datetimes as naive UTC text."""
    if value is None:
        return None
    if sql_type == "uuid":
        return UUID(value).hex
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def _pg_copy_frame(frame: pl.DataFrame) -> bytes:
    """The frame as CSV for COPY: bytea as \\x-hex, booleans as t/f, timestamps in ISO with zone."""
    conversions = []
    for column, dtype in frame.schema.items():
        if dtype == pl.Binary:
            conversions.append((pl.lit("\\x") + pl.col(column).bin.encode("hex")).alias(column))
        elif dtype == pl.Boolean:
            conversions.append(pl.when(pl.col(column)).then(pl.lit("t")).otherwise(pl.lit("f")).alias(column))
    if conversions:
        frame = frame.with_columns(conversions)
    buffer = io.BytesIO()
    frame.write_csv(buffer, include_header=False, null_value="", datetime_format="%Y-%m-%dT%H:%M:%S%.f%z")
    return buffer.getvalue()
