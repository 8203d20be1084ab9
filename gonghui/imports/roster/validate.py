"""The roster layout (会员名册) and the column-wise validation of an imported roster.

Validation runs on whole columns with polars. The common case (a valid 18-digit resident ID, a valid mobile, known
choice labels) is decided by vectorised expressions; only values that fail the fast checks go through the registry's
own per-value normalisers (`normalise_document`, `normalise_mobile`), so every refusal carries exactly the reason the
registry would give, and the fast path accepts exactly what the registry accepts (tested value by value).
Pure: nothing here reads or writes the database.
"""

from collections.abc import Mapping
from datetime import date
from typing import Any

import phonenumbers
import polars as pl

from gonghui.common.sheets import LINE, ColumnSpec, Table
from gonghui.members.documents import (
    DOC_TYPES_WITH_BIRTH_DATE,
    MAX_PLAUSIBLE_AGE,
    MIN_MEMBER_AGE,
    DocType,
    DocumentInvalid,
    check_birth_date,
    doc_type_code,
    normalise_document,
    region_known,
)
from gonghui.members.models import (
    ETHNICITIES,
    Education,
    EmploymentForm,
    HukouType,
    PoliticalStatus,
    QualityFlag,
    Sex,
    SkillLevel,
)
from gonghui.members.people import REQUIRED_FOR_QUALITY, normalise_mobile

ROSTER_COLUMNS = ColumnSpec(
    synonyms={
        "name": ("姓名", "名字", "会员姓名", "职工姓名", "员工姓名"),
        "doc_number": (
            "证件号码", "身份证号", "身份证号码", "公民身份号码", "身份证", "证件号", "身份证件号码", "居民身份证号码",
        ),
        "doc_type": ("证件类型", "证件种类"),
        "phone": ("手机号码", "手机", "手机号", "联系电话", "移动电话", "联系方式", "电话"),
        "sex": ("性别",),
        "birth_date": ("出生日期", "出生年月日", "生日"),
        "ethnicity": ("民族",),
        "education": ("学历", "文化程度", "最高学历"),
        "political_status": ("政治面貌",),
        "hukou_type": ("户籍类型", "户口性质", "户籍性质", "户口类型"),
        "employment_form": ("就业形态", "用工形式", "就业方式"),
        "work_unit": ("工作单位", "单位名称", "所在单位", "单位"),
        "post": ("岗位/职务", "岗位", "职务", "岗位职务"),
        "skill_level": ("技能等级", "职业技能等级"),
        "is_model_worker": ("劳动模范", "是否劳模", "劳模", "是否劳动模范"),
        "joined_on": ("入会日期", "入会时间"),
        "remarks": ("备注",),
    },
    required=("name", "doc_number"),
    ignored=(
        "序号", "编号", "所在工会", "工会名称", "工会代码", "会籍状态", "会员卡号", "来源", "年龄",
        "原行号", "问题说明",
    ),
)  # fmt: skip

# Choice columns: what people write → stored code. The model's own labels and codes are always accepted.
_EXTRA_LABELS: dict[str, dict[str, str]] = {
    "education": {
        "本科": Education.BACHELOR, "大学": Education.BACHELOR, "学士": Education.BACHELOR,
        "大专": Education.COLLEGE, "专科": Education.COLLEGE, "高职": Education.COLLEGE,
        "硕士": Education.POSTGRADUATE, "博士": Education.POSTGRADUATE, "硕士研究生": Education.POSTGRADUATE,
        "博士研究生": Education.POSTGRADUATE, "中专": Education.VOCATIONAL, "中技": Education.VOCATIONAL,
        "职高": Education.VOCATIONAL, "技校": Education.VOCATIONAL, "中专/中技": Education.VOCATIONAL,
        "初中": Education.JUNIOR_OR_BELOW, "小学": Education.JUNIOR_OR_BELOW, "小学及以下": Education.JUNIOR_OR_BELOW,
    },
    "political_status": {
        "党员": PoliticalStatus.CPC_MEMBER, "中共党员": PoliticalStatus.CPC_MEMBER,
        "预备党员": PoliticalStatus.CPC_PROBATIONARY, "团员": PoliticalStatus.CYL_MEMBER,
        "共青团员": PoliticalStatus.CYL_MEMBER, "民主党派": PoliticalStatus.DEMOCRATIC_PARTY,
        "无党派": PoliticalStatus.NON_PARTISAN,
    },
    "hukou_type": {
        "农业": HukouType.AGRICULTURAL, "农村": HukouType.AGRICULTURAL, "农村户口": HukouType.AGRICULTURAL,
        "非农业": HukouType.NON_AGRICULTURAL, "城镇": HukouType.NON_AGRICULTURAL,
        "城镇户口": HukouType.NON_AGRICULTURAL, "非农": HukouType.NON_AGRICULTURAL,
    },
    "employment_form": {
        "标准": EmploymentForm.STANDARD, "全日制": EmploymentForm.STANDARD, "劳动合同": EmploymentForm.STANDARD,
        "外卖员": EmploymentForm.FOOD_DELIVERY, "外卖骑手": EmploymentForm.FOOD_DELIVERY,
        "网约车司机": EmploymentForm.RIDE_HAILING, "灵活就业": EmploymentForm.OTHER_FLEXIBLE,
    },
    "skill_level": {
        "五级": SkillLevel.GRADE_5, "四级": SkillLevel.GRADE_4, "三级": SkillLevel.GRADE_3,
        "二级": SkillLevel.GRADE_2, "一级": SkillLevel.GRADE_1,
    },
    "sex": {"男": Sex.MALE, "女": Sex.FEMALE, "男性": Sex.MALE, "女性": Sex.FEMALE},
}  # fmt: skip
_CHOICE_FIELDS = {
    "ethnicity": ("民族", [(e, e) for e in ETHNICITIES]),
    "education": ("学历", Education.choices),
    "political_status": ("政治面貌", PoliticalStatus.choices),
    "hukou_type": ("户籍类型", HukouType.choices),
    "employment_form": ("就业形态", EmploymentForm.choices),
    "skill_level": ("技能等级", SkillLevel.choices),
    "sex": ("性别", Sex.choices),
}
_TEXT_FIELDS = {"work_unit": (150, "工作单位"), "post": (60, "岗位/职务"), "remarks": (500, "备注")}
_YES = ("是", "Y", "YES", "1", "TRUE", "√")
_NO = ("否", "N", "NO", "0", "FALSE", "×")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")
_GB11643_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_GB11643_CHECK = "10X98765432"
_CN = phonenumbers.PhoneMetadata.metadata_for_region("CN")
assert _CN is not None and _CN.mobile is not None, "phonenumbers ships the metadata of CN"
_MOBILE = _CN.mobile.national_number_pattern
UNION_FOUNDED = date(1925, 5, 1)  # 中华全国总工会成立; no membership is older

PROFILE_COLUMNS = (
    "ethnicity", "education", "political_status", "hukou_type", "employment_form",
    "work_unit", "post", "skill_level", "is_model_worker", "remarks",
)  # fmt: skip
OUTPUT_SCHEMA = {
    LINE: pl.Int64,
    "status": pl.String,
    "reason": pl.String,
    "name": pl.String,
    "doc_type": pl.String,
    "doc_number": pl.String,
    "birth_date": pl.Date,
    "sex": pl.String,
    "region_code": pl.String,
    "phone": pl.String,
    **{field: pl.Boolean if field == "is_model_worker" else pl.String for field in PROFILE_COLUMNS},
    "joined_on": pl.Date,
}


def choice_map(field: str) -> dict[str, str]:
    """Accepted spellings of one choice column → stored code."""
    _label, choices = _CHOICE_FIELDS[field]
    mapping: dict[str, str] = {}
    for code, label in choices:
        mapping[str(code)] = str(code)
        mapping[str(label)] = str(code)
    mapping.update({k: str(v) for k, v in _EXTRA_LABELS.get(field, {}).items()})
    if field == "ethnicity":
        mapping.update({e[:-1]: e for e in ETHNICITIES if e.endswith("族") and len(e) >= 2})
    return mapping


def _cleaned(column: str) -> pl.Expr:
    """NFKC (full-width → half-width), trimmed; null when empty."""
    return pl.col(column).str.normalize("NFKC").str.strip_chars().replace("", None)


def _clean_number_expr(column: str) -> pl.Expr:
    return pl.col(column).str.normalize("NFKC").str.replace_all(r"\s+", "").str.to_uppercase()


def _gb11643_ok(number: pl.Expr) -> pl.Expr:
    total = pl.sum_horizontal(
        number.str.slice(i, 1).cast(pl.Int32, strict=False) * weight for i, weight in enumerate(_GB11643_WEIGHTS)
    )
    expected = pl.lit(list(_GB11643_CHECK)).list.get(total % 11)
    return number.str.slice(17, 1) == expected


def _latest_birth_for_age(today: date, age: int) -> date:
    """The latest birth date of someone who is at least `age` today (Feb 29 falls back to Feb 28)."""
    year = today.year - age
    try:
        return today.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


def _parse_date(column: pl.Expr) -> pl.Expr:
    text = column.str.replace(r"[ T]\d{1,2}:\d{2}(:\d{2})?$", "")
    return pl.coalesce([text.str.to_date(fmt, strict=False) for fmt in _DATE_FORMATS])


def _documents(frame: pl.DataFrame, today: date) -> pl.DataFrame:
    """doc_type, doc_number (normalised), birth_date, sex, region_code and doc_error for every row."""
    raw_type = frame.get_column("doc_type") if "doc_type" in frame.columns else pl.Series([None] * frame.height)
    type_codes = {value: doc_type_code(value) for value in raw_type.drop_nulls().unique().to_list()}
    df = frame.select(
        pl.col(LINE),
        pl.col("doc_number").alias("_raw_number"),
        raw_type.alias("_raw_type"),
    ).with_columns(
        pl.col("_raw_type").replace_strict(type_codes, default=None, return_dtype=pl.String).alias("_type"),
        _clean_number_expr("_raw_number").alias("_number"),
    )
    df = df.with_columns(
        pl.when(pl.col("_raw_type").is_null())
        .then(pl.lit(DocType.RESIDENT_ID))
        .otherwise(pl.col("_type"))
        .alias("_type")
    )
    birth = pl.col("_number").str.slice(6, 8).str.to_date("%Y%m%d", strict=False)
    prefixes = (
        df.filter(pl.col("_number").str.contains(r"^[0-9]{17}[0-9X]$"))
        .get_column("_number")
        .str.slice(0, 6)
        .unique()
        .to_list()
    )
    known = [p for p in prefixes if p[:2] not in ("81", "82", "83") and region_known(p)]
    fast = (
        (pl.col("_type") == DocType.RESIDENT_ID)
        & pl.col("_number").str.contains(r"^[0-9]{17}[0-9X]$")
        & _gb11643_ok(pl.col("_number"))
        & birth.is_not_null()
        & (birth >= date(1900, 1, 1))
        & (birth <= _latest_birth_for_age(today, MIN_MEMBER_AGE))
        & pl.col("_number").str.slice(0, 6).is_in(known)
    )
    df = df.with_columns(fast.fill_null(False).alias("_fast"))
    df = df.with_columns(
        pl.when(pl.col("_fast")).then(birth).alias("birth_date"),
        pl.when(pl.col("_fast"))
        .then(
            pl.when(pl.col("_number").str.slice(16, 1).cast(pl.Int32) % 2 == 1).then(pl.lit("M")).otherwise(pl.lit("F"))
        )
        .alias("sex"),
        pl.when(pl.col("_fast")).then(pl.col("_number").str.slice(0, 6)).alias("region_code"),
        pl.when(pl.col("_fast")).then(pl.col("_number")).alias("doc_number"),
        pl.lit(None, dtype=pl.String).alias("doc_error"),
    )
    slow = df.filter(~pl.col("_fast"))
    if slow.height:
        results: list[tuple[Any, ...]] = []
        for line, raw_type_value, code, raw_number in slow.select(
            LINE, "_raw_type", "_type", "_raw_number"
        ).iter_rows():
            try:
                if raw_number is None:
                    raise DocumentInvalid("证件号码不能为空")
                document = normalise_document(code or raw_type_value or "", raw_number, today=today)
            except DocumentInvalid as exc:
                results.append((line, code, None, None, None, None, str(exc)))
                continue
            results.append(
                (line, document.doc_type, document.number, document.birth_date, document.sex or None,
                 document.region_code or None, None)
            )  # fmt: skip
        patch = pl.DataFrame(
            results,
            schema={LINE: pl.Int64, "_type": pl.String, "doc_number": pl.String, "birth_date": pl.Date,
                    "sex": pl.String, "region_code": pl.String, "doc_error": pl.String},
            orient="row",
        )  # fmt: skip
        df = df.update(patch, on=LINE, include_nulls=True)
    return df.select(
        LINE, pl.col("_type").alias("doc_type"), "doc_number", "birth_date", "sex", "region_code", "doc_error"
    )


def _phones(frame: pl.DataFrame) -> pl.DataFrame:
    if "phone" not in frame.columns:
        return frame.select(LINE, pl.lit(None, pl.String).alias("phone"), pl.lit(None, pl.String).alias("phone_error"))
    cleaned = (
        pl.col("phone")
        .str.normalize("NFKC")
        .str.replace_all(r"[\s\-()]", "")
        .str.replace(r"^(\+86|0086|86)(1\d{10})$", "$2")
    )
    df = frame.select(LINE, pl.col("phone").alias("_raw"), cleaned.alias("_clean"))
    df = df.with_columns(pl.col("_clean").str.contains(f"^(?:{_MOBILE})$").fill_null(False).alias("_fast"))
    df = df.with_columns(
        pl.when(pl.col("_fast")).then(pl.col("_clean")).alias("phone"),
        pl.lit(None, dtype=pl.String).alias("phone_error"),
    )
    slow = df.filter(~pl.col("_fast") & pl.col("_raw").is_not_null())
    if slow.height:
        results: list[tuple[Any, ...]] = []
        for line, raw in slow.select(LINE, "_raw").iter_rows():
            try:
                results.append((line, normalise_mobile(raw), None))
            except ValueError as exc:
                results.append((line, None, str(exc)))
        patch = pl.DataFrame(
            results, schema={LINE: pl.Int64, "phone": pl.String, "phone_error": pl.String}, orient="row"
        )
        df = df.update(patch, on=LINE, include_nulls=True)
    return df.select(LINE, "phone", "phone_error")


def _name_checks() -> tuple[pl.Expr, pl.Expr]:
    name = pl.col("name").str.normalize("NFKC").str.strip_chars().str.replace_all(" ", "")
    error = (
        pl.when(name.is_null() | (name == ""))
        .then(pl.lit("姓名不能为空"))
        .when(name.str.len_chars() > 50)
        .then(pl.lit("姓名不能超过50个字"))
        .when(name.str.contains(r"\d"))
        .then(pl.lit("姓名中不能有数字"))
    )
    return name.alias("name"), error.alias("name_error")


def _per_distinct(
    frame: pl.DataFrame, field: str, outputs: dict[str, pl.Expr], dtypes: Mapping[str, pl.DataType | type[pl.DataType]]
):
    """Evaluate `outputs` (expressions over pl.col(field)) once per distinct value of a low-cardinality column and
    map them back onto every row: a roster has a million rows but a few dozen spellings of 学历 or dates of 入会."""
    distinct = frame.select(pl.col(field).unique().drop_nulls()).with_columns(
        expr.alias(name) for name, expr in outputs.items()
    )
    keys = distinct.get_column(field).to_list()
    return {
        name: pl.col(field).replace_strict(
            dict(zip(keys, distinct.get_column(name).to_list(), strict=True)), default=None, return_dtype=dtypes[name]
        )
        for name in outputs
    }


def _choice_checks(frame: pl.DataFrame, field: str) -> tuple[pl.Expr, pl.Expr]:
    label = _CHOICE_FIELDS[field][0]
    if field not in frame.columns:
        return pl.lit(None, pl.String).alias(field), pl.lit(None, pl.String).alias(f"{field}_error")
    value = _cleaned(field)
    code = value.replace_strict(choice_map(field), default=None, return_dtype=pl.String)
    error = pl.when(value.is_not_null() & code.is_null()).then(
        pl.format("{}“{}”不在可选范围内，请按模板的下拉选项填写", pl.lit(label), value)
    )
    mapped = _per_distinct(frame, field, {"code": code, "error": error}, {"code": pl.String, "error": pl.String})
    return mapped["code"].alias(field), mapped["error"].alias(f"{field}_error")


def _text_checks(frame: pl.DataFrame, field: str) -> tuple[pl.Expr, pl.Expr]:
    limit, label = _TEXT_FIELDS[field]
    if field not in frame.columns:
        return pl.lit(None, pl.String).alias(field), pl.lit(None, pl.String).alias(f"{field}_error")
    value = _cleaned(field)
    error = pl.when(value.str.len_chars() > limit).then(pl.lit(f"{label}不能超过{limit}个字"))
    return value.alias(field), error.alias(f"{field}_error")


def _model_worker_checks(frame: pl.DataFrame) -> tuple[pl.Expr, pl.Expr]:
    if "is_model_worker" not in frame.columns:
        return pl.lit(None, pl.Boolean).alias("is_model_worker"), pl.lit(None, pl.String).alias("model_error")
    value = _cleaned("is_model_worker").str.to_uppercase()
    parsed = pl.when(value.is_in(_YES)).then(True).when(value.is_in(_NO)).then(False)
    error = pl.when(value.is_not_null() & parsed.is_null()).then(pl.lit("劳动模范一栏请填“是”或“否”"))
    mapped = _per_distinct(
        frame, "is_model_worker", {"parsed": parsed, "error": error}, {"parsed": pl.Boolean, "error": pl.String}
    )
    return mapped["parsed"].alias("is_model_worker"), mapped["error"].alias("model_error")


def _date_checks(frame: pl.DataFrame, field: str, label: str) -> tuple[pl.Expr, pl.Expr]:
    if field not in frame.columns:
        return pl.lit(None, pl.Date).alias(f"_{field}_given"), pl.lit(None, pl.String).alias(f"{field}_error")
    value = _cleaned(field)
    parsed = _parse_date(value)
    error = pl.when(value.is_not_null() & parsed.is_null()).then(
        pl.format("{}“{}”无法识别，请写成 2024-05-01 这样的格式", pl.lit(label), value)
    )
    mapped = _per_distinct(frame, field, {"parsed": parsed, "error": error}, {"parsed": pl.Date, "error": pl.String})
    return mapped["parsed"].alias(f"_{field}_given"), mapped["error"].alias(f"{field}_error")


def _manual_birth_errors(df: pl.DataFrame, today: date) -> pl.DataFrame:
    """Birth dates typed by hand (passports, old foreign permanent cards) go through the registry's own check."""
    rows = df.filter(pl.col("birth_date").is_null() & pl.col("_birth_date_given").is_not_null())
    if not rows.height:
        return df
    results: list[tuple[Any, ...]] = []
    for line, given in rows.select(LINE, "_birth_date_given").iter_rows():
        try:
            check_birth_date(given, today)
            results.append((line, given, None))
        except DocumentInvalid as exc:
            results.append((line, None, str(exc)))
    patch = pl.DataFrame(
        results, schema={LINE: pl.Int64, "birth_date": pl.Date, "manual_birth_error": pl.String}, orient="row"
    )
    return df.update(patch, on=LINE, include_nulls=True)


def validate_roster(table: Table, *, today: date) -> pl.DataFrame:
    """One row per data row of the file: status "ok" with the normalised values, or "error" with the reasons.
    Duplicates are not decided here (see `mark_duplicates`)."""
    frame = table.frame
    documents = _documents(frame, today)
    phones = _phones(frame)
    name, name_error = _name_checks()
    checks = [name, name_error]
    for field in ("ethnicity", "education", "political_status", "hukou_type", "employment_form", "skill_level"):
        checks.extend(_choice_checks(frame, field))
    sex_given, sex_error = _choice_checks(frame, "sex")
    checks.extend([sex_given.alias("_sex_given"), sex_error])
    for field in _TEXT_FIELDS:
        checks.extend(_text_checks(frame, field))
    checks.extend(_model_worker_checks(frame))
    checks.extend(_date_checks(frame, "joined_on", "入会日期"))
    checks.extend(_date_checks(frame, "birth_date", "出生日期"))
    beyond = pl.when(pl.col("_beyond_header")).then(pl.lit("本行在没有表头的列中填了内容，请核对是否错列"))
    df = frame.select(LINE, *checks, beyond.alias("beyond_error"))
    df = df.join(documents, on=LINE, how="left").join(phones, on=LINE, how="left")
    df = df.with_columns(pl.lit(None, pl.String).alias("manual_birth_error"))
    df = _manual_birth_errors(df, today)
    carries_birth = pl.col("doc_type").is_in(list(DOC_TYPES_WITH_BIRTH_DATE)) & pl.col("doc_error").is_null()
    joined = pl.col("_joined_on_given").fill_null(pl.lit(today))
    df = df.with_columns(
        pl.when(carries_birth & pl.col("sex").is_not_null() & pl.col("_sex_given").is_not_null())
        .then(
            pl.when(pl.col("_sex_given") != pl.col("sex")).then(
                pl.format(
                    "性别与证件号码不符（按证件号码应为{}）",
                    pl.when(pl.col("sex") == "M").then(pl.lit("男")).otherwise(pl.lit("女")),
                )
            )
        )
        .alias("sex_mismatch"),
        pl.when(carries_birth & pl.col("_birth_date_given").is_not_null() & pl.col("birth_date").is_not_null())
        .then(
            pl.when(pl.col("_birth_date_given") != pl.col("birth_date")).then(
                pl.format("出生日期与证件号码不符（按证件号码应为{}）", pl.col("birth_date").dt.strftime("%Y-%m-%d"))
            )
        )
        .alias("birth_mismatch"),
        pl.when(
            (pl.col("doc_type") == DocType.PASSPORT) & pl.col("doc_error").is_null() & pl.col("birth_date").is_null()
        )
        .then(pl.lit("护照不含出生日期，请填写出生日期"))
        .alias("passport_birth_error"),
        pl.when(joined > pl.lit(today))
        .then(pl.lit("入会日期不能晚于今天"))
        .when(joined < pl.lit(UNION_FOUNDED))
        .then(pl.lit("入会日期早于1925年，请核对"))
        .when(pl.col("birth_date").is_not_null() & (joined < pl.col("birth_date").dt.offset_by(f"{MIN_MEMBER_AGE}y")))
        .then(pl.lit(f"入会日期早于年满{MIN_MEMBER_AGE}周岁的日期，请核对"))
        .alias("joined_error"),
        joined.alias("joined_on"),
    )
    df = df.with_columns(
        pl.when(pl.col("doc_type").is_in([DocType.PASSPORT, DocType.FOREIGN_PERMANENT]) & pl.col("sex").is_null())
        .then(pl.col("_sex_given"))
        .otherwise(pl.col("sex"))
        .alias("sex")
    )
    errors = [
        "name_error", "doc_error", "phone_error", "sex_error", "sex_mismatch", "birth_date_error",
        "manual_birth_error", "birth_mismatch", "passport_birth_error", "joined_on_error", "joined_error",
        *[f"{f}_error" for f in ("ethnicity", "education", "political_status", "hukou_type", "employment_form",
                                 "skill_level", "work_unit", "post", "remarks")],
        "model_error", "beyond_error",
    ]  # fmt: skip
    reason = pl.concat_str([pl.col(c) for c in errors], separator="；", ignore_nulls=True).replace("", None)
    df = df.with_columns(reason.alias("reason"))
    df = df.with_columns(
        pl.when(pl.col("reason").is_null()).then(pl.lit("ok")).otherwise(pl.lit("error")).alias("status")
    )
    return df.select([pl.col(c).cast(t) for c, t in OUTPUT_SCHEMA.items()])


def mark_duplicates(rows: pl.DataFrame) -> pl.DataFrame:
    """People listed more than once: the first valid row of each document is imported, the later ones are marked
    "duplicate" with every line of the group named. Rows with one document number but different names are not the
    same person as far as the file can tell: every row of such a group is an error naming the line and the name it
    disagrees with (one of them carries a wrong number or a wrong name; none is imported until it is checked)."""
    valid = rows.filter(pl.col("status") == "ok")
    groups = (
        valid.group_by("doc_type", "doc_number")
        .agg(pl.col(LINE).sort().alias("_lines"), pl.col("name").sort_by(LINE).alias("_names"))
        .filter(pl.col("_lines").list.len() > 1)
    )
    if not groups.height:
        return rows
    groups = groups.with_columns(
        pl.format(
            "第{}行是同一人（证件号码相同），只导入第{}行",
            pl.col("_lines").cast(pl.List(pl.String)).list.join("、"),
            pl.col("_lines").list.first(),
        ).alias("_dup_reason"),
        pl.col("_lines").list.first().alias("_first"),
        (pl.col("_names").list.n_unique() > 1).alias("_names_differ"),
    )
    members = valid.join(groups, on=["doc_type", "doc_number"])
    same = members.filter(~pl.col("_names_differ") & (pl.col(LINE) != pl.col("_first")))
    patch = same.select(LINE, pl.lit("duplicate").alias("status"), pl.col("_dup_reason").alias("reason"))
    differ = members.filter(pl.col("_names_differ"))
    if differ.height:
        # Each row against the first row of its group with another name.
        others = (
            differ.select(LINE, "name", "_lines", "_names")
            .explode("_lines", "_names")
            .filter(pl.col("_names") != pl.col("name"))
            .group_by(LINE)
            .agg(pl.col("_lines").first().alias("_other_line"), pl.col("_names").first().alias("_other_name"))
        )
        conflicts = differ.join(others, on=LINE).select(
            LINE,
            pl.lit("error").alias("status"),
            pl.format(
                "第{}行与第{}行证件号码相同但姓名不同（{}／{}），请核对",
                pl.col(LINE),
                pl.col("_other_line"),
                pl.col("name"),
                pl.col("_other_name"),
            ).alias("reason"),
        )
        patch = pl.concat([patch, conflicts])
    return rows.update(patch, on=LINE)


def quality_flags_expr(today: date) -> pl.Expr:
    """The registry's per-record quality flags (people.quality_flags) for rows that passed validation: their
    document is valid and a phone, when given, is valid."""
    missing_required = (
        pl.any_horizontal(pl.col(f).is_null() | (pl.col(f) == "") for f in REQUIRED_FOR_QUALITY if f != "birth_date")
        | pl.col("birth_date").is_null()
    )
    too_old = _latest_birth_for_age(today, MAX_PLAUSIBLE_AGE + 1)
    age_problem = pl.col("birth_date").is_null() | (pl.col("birth_date") <= pl.lit(too_old))
    return (
        pl.when(pl.col("phone").is_null()).then(QualityFlag.PHONE).otherwise(0)
        + pl.when(missing_required).then(QualityFlag.REQUIRED_FIELDS).otherwise(0)
        + pl.when(age_problem).then(QualityFlag.AGE).otherwise(0)
    ).cast(pl.Int32)
