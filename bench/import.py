"""Roster import at city scale: a 1,000,000-row roster CSV imported into a grassroots union, with 200,000 members
registered already (half in that union, half in unions of other districts), end to end through
`manage.py import_roster` (read the file, validate column-wise, merge chunk by chunk, record the outcome of every
row, write the problem report): wall time, rows/s, peak memory and where the time went.

The file is what unions send: ~5% invalid rows (a wrong check digit, an ID number Excel turned into scientific
notation, an empty name, a 10-digit mobile), ~2% listed twice, ~10% already members of this union and ~2% members
of another union; the rest are new people.

Compared in the same run with the naive ways, each on a sample of the same mix into a fresh union: one
`member_enrol` call per row (what a per-row ORM loop over the registry's own service does), and django-import-export
with a `ModelResource` that seals each person with the registry's helpers and adds the membership after saving.
The pipeline is also run on the same sample, since a small file carries its fixed costs over fewer rows.
Also timed: parsing a 200,000-row .xlsx with the reader the import uses.

Generating the files is not timed.

    python bench/import.py --size small|full
"""

import argparse
import csv
import gc
import io
import math
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from _setup import ROOT, drop_database, fresh_database, result, say, setup_django

SIZES = {
    "small": {"orgs": 400, "existing": 5_000, "rows": 20_000, "sample": 2_000, "xlsx_rows": 20_000},
    "full": {"orgs": 3_000, "existing": 200_000, "rows": 1_000_000, "sample": 20_000, "xlsx_rows": 200_000},
}
SEED = 20240915
OTHER_UNIONS = 3  # the unions holding the members listed by mistake in the target union's roster
EXISTING_ELSEWHERE = 0.5  # of the existing members, the share held by those other unions
SHARE_HERE = 0.10  # of the roster's rows: members of the target union already
SHARE_ELSEWHERE = 0.02  # members of another union
SHARE_INVALID = 0.05  # split evenly over the four kinds of invalid row
SHARE_DUPLICATE = 0.02  # a new person listed a second time

# Kinds of row. NEW, HERE and ELSEWHERE are valid rows; they differ by whom the serial denotes.
NEW, HERE, ELSEWHERE, BAD_CHECK, SCIENTIFIC, NO_NAME, BAD_PHONE = range(7)
INVALID_KINDS = (BAD_CHECK, SCIENTIFIC, NO_NAME, BAD_PHONE)
MOBILE_PREFIXES = ["135", "136", "137", "138", "139", "150", "151", "152", "157", "158", "186", "187", "188", "189"]
JOIN_SPAN_DAYS = 900  # joined within the last ~2.5 years, so always after the 16th birthday
CHECK_CHARACTERS = "0123456789X"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=SIZES, default="small")
    parser.add_argument(
        "--pipeline-only", action="store_true", help="stop after the main import (profiling; no naive ways, no .xlsx)"
    )
    args = parser.parse_args()
    size = SIZES[args.size]
    database_url = fresh_database("gonghui_bench_import")
    # Uploads and problem reports go to a directory of their own (on the same disk as var/media), removed at the end.
    (ROOT / "var").mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-import-", dir=ROOT / "var"))
    os.environ["MEDIA_ROOT"] = str(work / "media")
    # DEBUG keeps every query in connection.queries: a cost the per-row loops (the naive ways) would pay and
    # production would not.
    os.environ["DEBUG"] = "false"
    setup_django(database_url)
    try:
        run(size, args.size, work, pipeline_only=args.pipeline_only)
    finally:
        drop_database(database_url)
        shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------------------
# Memory


def rss_mib() -> float | None:
    """The process's resident set now (Linux), MiB."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        return None


def peak_rss_mib() -> float:
    """ru_maxrss, MiB (kilobytes on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def reset_peak_rss() -> bool:
    """Reset the process's high-water mark (and so ru_maxrss) to its current resident set (Linux >= 4.0), so the
    peak read afterwards belongs to what runs afterwards."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


# ---------------------------------------------------------------------------------------------------------------
# Roster rows


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return date(day.year - years, 2, 28)


class People:
    """Roster rows as pure functions of a serial number: the same serial is always the same person (name, valid
    resident ID, mobile, profile), and two serials never share an ID number — the serial goes through a bijection
    onto (birth date, region, sequence). A few microseconds a row, where the demo's WorkerFactory takes ~30."""

    def __init__(self, today: date):
        from gonghui.demo.people import (
            EDUCATION,
            EMPLOYMENT,
            ETHNICITIES,
            GIVEN,
            LOCAL_REGIONS,
            MIGRANT_REGIONS,
            POLITICAL,
            POSTS,
            SKILL,
            SURNAMES,
        )
        from gonghui.members.documents import region_known
        from gonghui.members.models import Education, EmploymentForm, HukouType, PoliticalStatus, SkillLevel

        self.regions = LOCAL_REGIONS + MIGRANT_REGIONS
        assert all(region_known(code) for code in self.regions)
        first_birth = _years_before(today, 60)
        self.birth_days = (_years_before(today, 19) - first_birth).days + 1
        self.birth_text = [f"{first_birth + timedelta(days=d):%Y%m%d}" for d in range(self.birth_days)]
        self.joined_text = [(today - timedelta(days=d)).isoformat() for d in range(JOIN_SPAN_DAYS)]
        self.modulus = self.birth_days * len(self.regions) * 1000
        self.step = 7_368_787  # a prime; the bijection needs it coprime to the modulus
        while math.gcd(self.step, self.modulus) != 1:
            self.step += 2
        self.surnames = [surname for surname, weight in SURNAMES for _ in range(weight)]
        self.given = GIVEN
        rng = random.Random(SEED)

        def weighted(pairs):
            values, weights = zip(*pairs, strict=True)
            return rng.choices(values, weights=weights)[0]

        self.profiles = []
        for _ in range(101):
            employment = weighted(EMPLOYMENT)
            self.profiles.append(
                (
                    weighted(ETHNICITIES),
                    Education(weighted(EDUCATION)).label,
                    PoliticalStatus(weighted(POLITICAL)).label,
                    HukouType("agricultural" if rng.random() < 0.35 else "non_agricultural").label,
                    EmploymentForm(employment).label,
                    "骑手" if employment in ("courier", "food_delivery") else rng.choice(POSTS),
                    SkillLevel(weighted(SKILL)).label,
                    "是" if rng.random() < 0.01 else "否",
                )
            )

    def document(self, serial: int) -> str:
        from stdnum.cn import ric

        rest, sequence = divmod((serial * self.step + 12345) % self.modulus, 1000)
        day, region = divmod(rest, len(self.regions))
        body = f"{self.regions[region]}{self.birth_text[day]}{sequence:03d}"
        return body + ric.calc_check_digit(body + "0")

    def name(self, serial: int) -> str:
        mixed = (serial * 2_654_435_761 + 97) & 0xFFFFFFFF
        given = self.given[(mixed >> 8) % len(self.given)]
        if (mixed >> 16) % 3:
            given += self.given[(mixed >> 20) % len(self.given)]
        return self.surnames[mixed % len(self.surnames)] + given

    @staticmethod
    def phone(serial: int) -> str:
        return MOBILE_PREFIXES[serial % len(MOBILE_PREFIXES)] + f"{(serial * 7919 + 1_234_567) % 10**8:08d}"

    def row(self, line: int, serial: int, kind: int, work_unit: str) -> list[str]:
        """One row in the standard layout (gonghui.demo.rosters.HEADINGS)."""
        number, name, phone = self.document(serial), self.name(serial), self.phone(serial)
        sex = "男" if int(number[16]) % 2 else "女"
        if kind == BAD_CHECK:
            number = number[:17] + CHECK_CHARACTERS[(CHECK_CHARACTERS.index(number[17]) + 1) % 11]
        elif kind == SCIENTIFIC:
            number = f"{int(number[:17] + '0'):.5E}"  # what Excel shows for a number column: 3.20508E+17
        elif kind == NO_NAME:
            name = ""
        elif kind == BAD_PHONE:
            phone = phone[:10]
        ethnicity, education, political, hukou, employment, post, skill, model = self.profiles[
            (serial * 40_503) % len(self.profiles)
        ]
        joined = self.joined_text[(serial * 37) % JOIN_SPAN_DAYS]
        return [
            str(line), name, sex, "居民身份证", number, phone, ethnicity, education, political, hukou, employment,
            work_unit, post, skill, model, joined,
        ]  # fmt: skip


class Serials:
    """Hands out blocks of serials, so that the populations (members here, members elsewhere, each file's new
    people) never share a person."""

    def __init__(self):
        self.next = 0

    def block(self, count: int) -> range:
        block = range(self.next, self.next + count)
        self.next += count
        return block


def roster_plan(
    rows: int, *, here: range | None, elsewhere: range, serials: Serials, rng: random.Random
) -> tuple[list[int], Counter]:
    """The rows of one roster, shuffled, each as serial * 8 + kind; and the outcome each kind of row should get."""
    n_here = min(len(here), round(rows * SHARE_HERE)) if here else 0
    n_elsewhere = min(len(elsewhere), round(rows * SHARE_ELSEWHERE))
    n_invalid = round(rows * SHARE_INVALID)
    n_duplicate = round(rows * SHARE_DUPLICATE)
    n_new = rows - n_here - n_elsewhere - n_invalid - n_duplicate
    fresh = serials.block(n_new + n_invalid)
    new = fresh[:n_new]
    codes = [serial * 8 + NEW for serial in new]
    codes += [serial * 8 + NEW for serial in rng.sample(new, n_duplicate)]
    codes += [serial * 8 + INVALID_KINDS[i % len(INVALID_KINDS)] for i, serial in enumerate(fresh[n_new:])]
    if n_here:
        codes += [serial * 8 + HERE for serial in rng.sample(here, n_here)]
    codes += [serial * 8 + ELSEWHERE for serial in rng.sample(elsewhere, n_elsewhere)]
    rng.shuffle(codes)
    expected = Counter(
        rows=rows, added=n_new, updated=0, unchanged=n_here, conflict=n_elsewhere, duplicate=n_duplicate,
        error=n_invalid,
    )  # fmt: skip
    return codes, expected


def write_roster(path: Path, people: People, codes, work_unit: str) -> float:
    """The roster as a UTF-8 (BOM) CSV, written row by row (gonghui.demo.rosters.roster_csv builds it in memory);
    its size in MiB."""
    from gonghui.demo.rosters import HEADINGS

    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(HEADINGS)
        for line, code in enumerate(codes, start=1):
            writer.writerow(people.row(line, code >> 3, code & 7, work_unit))
    return path.stat().st_size / 2**20


def unit_of(org) -> str:
    return org.name.removesuffix("联合工会委员会").removesuffix("工会委员会") or org.name


# ---------------------------------------------------------------------------------------------------------------
# Where the pipeline's time goes


class Stages:
    """Wall time spent in the pipeline's own functions during a run, by wrapping them where they are looked up (the
    code path is unchanged; a wrapper adds two perf_counter calls per call)."""

    def __init__(self, targets):
        self.targets = targets
        self.seconds: dict[str, list[float]] = {}
        self.originals = []

    def __enter__(self):
        for module, name in self.targets:
            original = getattr(module, name)
            self.originals.append((module, name, original))
            setattr(module, name, self._timed(name, original))
        return self

    def __exit__(self, *exc):
        for module, name, original in reversed(self.originals):
            setattr(module, name, original)
        self.originals.clear()

    def _timed(self, name, fn):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds.setdefault(name, []).append(time.perf_counter() - started)

        return timed

    def total(self, name: str) -> float:
        return sum(self.seconds.get(name, []))

    def calls(self, name: str) -> int:
        return len(self.seconds.get(name, []))


# ---------------------------------------------------------------------------------------------------------------
# django-import-export


def roster_resource_class():
    """A `ModelResource` for the roster as one would write it for this registry: the choice columns mapped from
    their Chinese labels, the document, mobile and name checked with the registry's own normalisers (a refusal is a
    ValidationError, so the row is reported as invalid and the rest is imported), the person found by the blind
    index of the document, people already registered skipped (add only), new people sealed with `seal_document` /
    `seal_phone` before saving and given a membership with a card number after saving. Per-row saves: with
    `use_bulk` the person would not be saved yet when its membership is created."""
    from django.core.exceptions import ValidationError
    from import_export import fields, resources, widgets
    from stdnum import luhn

    from gonghui.common.errors import ValidationFailed
    from gonghui.imports.roster.validate import choice_map
    from gonghui.members.documents import DocType, DocumentInvalid, doc_type_code, normalise_document
    from gonghui.members.models import MembershipSource, MembershipStatus, Person
    from gonghui.members.people import (
        clean_profile,
        document_index,
        normalise_mobile,
        quality_flags,
        seal_document,
        seal_phone,
    )
    from gonghui.members.services import card_serials_reserve

    class LabelWidget(widgets.Widget):
        def __init__(self, field: str):
            super().__init__()
            self.codes = choice_map(field)

        def clean(self, value, row=None, **kwargs):
            text = (value or "").strip()
            if not text:
                return ""
            if text not in self.codes:
                raise ValueError(f"“{text}”不在可选范围内")
            return self.codes[text]

    class YesNoWidget(widgets.Widget):
        def clean(self, value, row=None, **kwargs):
            return (value or "").strip() == "是"

    def choice(attribute: str, column: str) -> fields.Field:
        return fields.Field(attribute=attribute, column_name=column, widget=LabelWidget(attribute))

    class RosterResource(resources.ModelResource):
        name = fields.Field(attribute="name", column_name="姓名")
        ethnicity = choice("ethnicity", "民族")
        education = choice("education", "学历")
        political_status = choice("political_status", "政治面貌")
        hukou_type = choice("hukou_type", "户籍类型")
        employment_form = choice("employment_form", "就业形态")
        work_unit = fields.Field(attribute="work_unit", column_name="工作单位")
        post = fields.Field(attribute="post", column_name="岗位/职务")
        skill_level = choice("skill_level", "技能等级")
        is_model_worker = fields.Field(attribute="is_model_worker", column_name="劳动模范", widget=YesNoWidget())

        class Meta:
            model = Person
            fields = (
                "name", "ethnicity", "education", "political_status", "hukou_type", "employment_form", "work_unit",
                "post", "skill_level", "is_model_worker",
            )  # fmt: skip
            skip_diff = True  # no before/after copy and HTML diff per row: the fastest per-row mode

        def __init__(self, *, org, today: date):
            super().__init__()
            self.org, self.today = org, today

        def before_import_row(self, row, **kwargs):
            errors: dict[str, str] = {}
            try:
                row["_document"] = normalise_document(
                    doc_type_code(row["证件类型"] or "") or DocType.RESIDENT_ID, row["证件号码"] or "", today=self.today
                )
            except DocumentInvalid as exc:
                errors["doc_number"] = str(exc)
            try:
                row["_phone"] = normalise_mobile(row["手机号码"]) if row["手机号码"] else ""
            except ValueError as exc:
                errors["phone"] = str(exc)
            try:
                clean_profile({"name": row["姓名"]})
            except ValidationFailed as exc:
                errors.update(exc.errors)
            if errors:
                raise ValidationError(errors)

        def get_instance(self, instance_loader, row):
            document = row["_document"]
            return Person.objects.filter(
                doc_type=document.doc_type, doc_index=document_index(document.doc_type, document.number)
            ).first()

        def skip_row(self, instance, original, row, import_validation_errors=None):
            return not instance._state.adding  # registered already (here, elsewhere, or earlier in this file)

        def before_save_instance(self, instance, row, **kwargs):
            seal_document(instance, row["_document"])
            seal_phone(instance, row["_phone"])
            instance.quality_flags = quality_flags(instance, today=self.today)

        def after_save_instance(self, instance, row, **kwargs):
            serial = card_serials_reserve(self.org, self.today, 1)
            body = f"{self.org.region_code}{self.today.year:04d}{serial:06d}"
            instance.memberships.create(
                org=self.org,
                status=MembershipStatus.ACTIVE,
                joined_on=date.fromisoformat(row["入会日期"]) if row["入会日期"] else self.today,
                source=MembershipSource.IMPORT,
                card_number=body + luhn.calc_check_digit(body),
            )

    return RosterResource


# ---------------------------------------------------------------------------------------------------------------


def run(size: dict, size_name: str, work: Path, *, pipeline_only: bool = False) -> None:
    import tablib
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone
    from stdnum import luhn

    import gonghui.imports.management.commands.import_roster as import_command
    import gonghui.imports.roster.job as imports
    import gonghui.imports.roster.load as roster_load
    import gonghui.imports.roster.merge as roster_merge
    from gonghui.common.actor import system_actor
    from gonghui.common.errors import DomainError
    from gonghui.common.sheets import read_table
    from gonghui.demo.federation import ROOT as CITY
    from gonghui.demo.federation import build_federation
    from gonghui.demo.rosters import roster_xlsx
    from gonghui.imports.roster.validate import ROSTER_COLUMNS, choice_map
    from gonghui.jobs.models import JobRun
    from gonghui.members.documents import DOC_TYPE_BY_LABEL, DocType, DocumentInvalid, normalise_document
    from gonghui.members.models import Membership, MembershipSource, Person, RosterImportRow
    from gonghui.members.people import (
        document_index,
        document_number_of,
        normalise_mobile,
        phone_of,
        quality_flags,
    )
    from gonghui.members.services import member_enrol
    from gonghui.orgs.models import GRASSROOTS_TYPES, Organisation, OrgStatus, OrgType
    from gonghui.orgs.services import org_create, org_tree_bulk_create

    vendor = connection.vendor
    actor = system_actor("bench")
    today = timezone.localdate()
    rng = random.Random(SEED)
    rows, existing, sample = size["rows"], size["existing"], size["sample"]
    say(f"[import] load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")
    say(
        f"[import] database: {vendor}; size: {size_name} ({rows:,}-row roster, {existing:,} members already, "
        f"samples of {sample:,} rows for the naive ways, {size['xlsx_rows']:,}-row .xlsx)"
    )

    # ---- the organisation tree and the unions ---------------------------------------------------------------------
    federation = build_federation(orgs=size["orgs"], seed=11)
    name, code, region = CITY
    with transaction.atomic():
        org_create(actor=actor, parent=None, name=name, code=code, org_type=OrgType.CITY, region_code=region)
        org_tree_bulk_create(actor=actor, specs=federation.specs)
    # Card numbers are a 6-digit serial per region and year: a region can issue at most 999,999 a year, and the full
    # roster's new members take most of the target union's region. So every other union used here is in a region of
    # its own.
    unions = list(Organisation.objects.filter(org_type__in=GRASSROOTS_TYPES, status=OrgStatus.ACTIVE).order_by("path"))
    target = unions[0]
    one_per_region: dict[str, Organisation] = {}
    for union in unions:
        if union.region_code != target.region_code:
            one_per_region.setdefault(union.region_code, union)
    spread = list(one_per_region.values())
    others = spread[:OTHER_UNIONS]
    fresh = dict(zip(("pipeline", "orm", "import_export"), spread[OTHER_UNIONS : OTHER_UNIONS + 3], strict=True))
    say(f"[import]   {Organisation.objects.count():,} organisations; target union {target.name} ({target.code})")

    people = People(today)
    serials = Serials()

    def import_file(path: Path, org) -> tuple[float, dict, JobRun]:
        out = io.StringIO()
        started = time.perf_counter()
        call_command("import_roster", str(path), "--org", org.code, "--mode", "add", stdout=out)
        seconds = time.perf_counter() - started
        job = JobRun.objects.filter(kind="roster_import").order_by("-created_at").first()
        for line in out.getvalue().splitlines():
            say(f"[import]     {line.replace(str(work), '<work>')}")
        return seconds, job.result["summary"], job

    def check(summary: dict, expected: Counter, what: str) -> None:
        wrong = {key: (summary.get(key), value) for key, value in expected.items() if summary.get(key) != value}
        assert not wrong, f"{what}: summary differs from the file's make-up (got, expected): {wrong}"

    # ---- the members already registered, loaded through the pipeline itself ---------------------------------------
    n_elsewhere = round(existing * EXISTING_ELSEWHERE)
    here_members = serials.block(existing - n_elsewhere)
    elsewhere_members = serials.block(n_elsewhere)
    say(
        f"[import] registering {existing:,} members first: {len(here_members):,} in the target union and "
        f"{n_elsewhere:,} in {OTHER_UNIONS} others (through the pipeline, into empty unions) ..."
    )
    preload_seconds = 0.0
    parts = [(target, here_members)] + [(org, elsewhere_members[i::OTHER_UNIONS]) for i, org in enumerate(others)]
    for org, members in parts:
        path = work / f"existing-{org.code}.csv"
        write_roster(path, people, [serial * 8 + NEW for serial in members], unit_of(org))
        seconds, summary, _job = import_file(path, org)
        check(summary, Counter(rows=len(members), added=len(members)), f"registering {org.code}")
        preload_seconds += seconds
        path.unlink()
    say(f"[import]   {existing:,} members in {preload_seconds:.1f} s ({existing / preload_seconds:,.0f} rows/s)")
    if vendor == "postgresql":
        with connection.cursor() as cursor:  # as autovacuum would after such a load
            cursor.execute("VACUUM (ANALYZE) members_person")
            cursor.execute("VACUUM (ANALYZE) members_membership")

    # ---- the files ----------------------------------------------------------------------------------------------
    say(f"[import] generating the {rows:,}-row roster and the {sample:,}-row samples (not timed) ...")
    started = time.perf_counter()
    codes, expected = roster_plan(rows, here=here_members, elsewhere=elsewhere_members, serials=serials, rng=rng)
    roster_path = work / "roster.csv"
    roster_mib = write_roster(roster_path, people, codes, unit_of(target))
    kinds = Counter(code & 7 for code in codes)
    probes = [code >> 3 for code in codes if code & 7 == NEW][:: max(1, rows // 200)]  # checked after the import
    del codes
    samples = {}
    for label, org in fresh.items():
        sample_codes, sample_expected = roster_plan(
            sample, here=None, elsewhere=elsewhere_members, serials=serials, rng=rng
        )
        path = work / f"sample-{label}.csv"
        write_roster(path, people, sample_codes, unit_of(org))
        samples[label] = (path, org, sample_expected)
    say(
        f"[import]   {roster_mib:,.1f} MiB in {time.perf_counter() - started:.1f} s: {kinds[NEW]:,} new-person rows "
        f"(of which {expected['duplicate']:,} repeat an earlier person), {kinds[HERE]:,} members here already, "
        f"{kinds[ELSEWHERE]:,} members of other unions, invalid: {kinds[BAD_CHECK]:,} wrong check digit, "
        f"{kinds[SCIENTIFIC]:,} scientific notation, {kinds[NO_NAME]:,} no name, {kinds[BAD_PHONE]:,} bad mobile"
    )
    for kind in (NEW, HERE):  # the validators accept what was generated, and refuse what was spoiled
        row = people.row(1, 7, kind, "")
        assert normalise_document(DocType.RESIDENT_ID, row[4], today=today).number == row[4]
        assert normalise_mobile(row[5]) == row[5]
    for kind in (BAD_CHECK, SCIENTIFIC):
        try:
            normalise_document(DocType.RESIDENT_ID, people.row(1, 7, kind, "")[4], today=today)
            raise AssertionError(f"kind {kind} accepted")
        except DocumentInvalid:
            pass

    # ---- the import ---------------------------------------------------------------------------------------------
    say(f"[import] importing the {rows:,}-row roster (manage.py import_roster --mode add) ...")
    gc.collect()
    rss_before = rss_mib()
    reset = reset_peak_rss()
    # Each function is wrapped in the module that calls it (the module of the job, of the merge, of the inserts).
    stage_targets = [(import_command, "roster_import_request"), (import_command, "roster_import_run")] + [
        (module, name)
        for module, names in (
            (imports, ("read_table", "prepare_rows", "_run_chunks", "_run_chunk", "_resync_figures", "merge_chunk")),
            (roster_merge, ("_lookup", "_sealed_people")),
            (roster_load, ("_insert_people", "_sealed_people", "_insert_memberships")),
            (imports, ("_record_outcomes", "_finish", "error_report_xlsx")),
        )
        for name in names
    ]  # fmt: skip
    with Stages(stage_targets) as stages:
        seconds, summary, job = import_file(roster_path, target)
    process_peak = peak_rss_mib()
    check(summary, expected, "the roster")
    rate = rows / seconds
    if reset and rss_before is not None:
        peak = process_peak - rss_before
        peak_note = f"peak above the {rss_before:,.0f} MiB resident before the import (high-water mark reset)"
    else:
        peak = process_peak
        peak_note = "process peak (ru_maxrss), everything before the import included"
    say(f"[import]   {seconds:.1f} s, {rate:,.0f} rows/s; memory: {peak:,.0f} MiB {peak_note}")
    stage = {name: round(stages.total(name), 2) for _module, name in stage_targets}
    reads = stages.seconds.get("read_table", [])
    say("[import]   where the time went (wall seconds):")
    rest = seconds - stage["roster_import_request"] - stage["roster_import_run"]
    breakdown = [
        ("request: checks, reads the first rows for the header, stores the upload", stage["roster_import_request"]),
        ("  of which read_table", reads[0] if reads else 0.0),
        ("job (roster_import_run)", stage["roster_import_run"]),
        ("  read_table", reads[1] if len(reads) > 1 else 0.0),
        ("  prepare_rows: validate, mark duplicates, blind index", stage["prepare_rows"]),
        ("  the chunks (_run_chunks)", stage["_run_chunks"]),
        ("    lookup, once before the chunks: stage keys, join the registry", stage["_lookup"]),
        (
            "    between chunks: the cancel check, waiting for the sealing thread",
            stage["_run_chunks"] - stage["_lookup"] - stage["_run_chunk"],
        ),
        (f"    one transaction per chunk (_run_chunk x{stages.calls('_run_chunk')})", stage["_run_chunk"]),
        (f"  merge_chunk x{stages.calls('merge_chunk')}", stage["merge_chunk"]),
        ("    insert people: COPY into members_person", stage["_insert_people"]),
        ("    insert memberships: card numbers, COPY into members_membership", stage["_insert_memberships"]),
        ("  sealing, AES-GCM and HMAC per row (in the sealing thread but chunk 1)", stage["_sealed_people"]),
        ("  record outcomes: COPY into roster_import_row", stage["_record_outcomes"]),
        ("  finish: summary, audit, delete the upload", stage["_finish"]),
        ("    of which recounting the union's figures", stage["_resync_figures"]),
        ("    of which the problem report (.xlsx)", stage["error_report_xlsx"]),
        ("the rest: command set-up, reading the file", rest),
    ]
    for label, value in breakdown:
        say(f"[import]     {label:<66} {value:7.2f}")
    outcome_rows = RosterImportRow.objects.filter(job=job).count()
    members_here = Membership.objects.filter(org=target, status="active").count()
    assert members_here == len(here_members) + expected["added"], members_here
    say(f"[import]   {outcome_rows:,} outcome rows recorded; {members_here:,} members in the target union now")
    merges = stages.seconds.get("merge_chunk", [])
    if len(merges) > 1:
        say(
            f"[import]   merge_chunk per {imports.CHUNK_ROWS:,}-row chunk: first {merges[0]:.2f} s, median "
            f"{sorted(merges)[len(merges) // 2]:.2f} s, last {merges[-1]:.2f} s"
        )
    for serial in probes:  # what the registry holds is what the file said, sealed as the registry's helpers seal
        row = people.row(0, serial, NEW, unit_of(target))
        person = Person.objects.get(doc_type=DocType.RESIDENT_ID, doc_index=document_index(DocType.RESIDENT_ID, row[4]))
        membership = person.memberships.get(status="active")
        assert (person.name, document_number_of(person), phone_of(person)) == (row[1], row[4], row[5]), serial
        assert (membership.org_id, membership.joined_on.isoformat()) == (target.id, row[15]), serial
        assert luhn.is_valid(membership.card_number), membership.card_number
        assert person.quality_flags == quality_flags(person, today=today), (person.quality_flags, serial)
    say(f"[import]   {len(probes)} new members checked against the file (decrypted, card number, quality flags)")

    if pipeline_only:
        result({"bench": "import", "size": size_name, "rows": rows, "seconds": round(seconds, 2), "stages": stage})
        return

    # ---- the naive ways, and the pipeline, on samples of the same mix ----------------------------------------------
    path, org, sample_expected = samples["pipeline"]
    say(f"[import] the pipeline on a {sample:,}-row sample into a fresh union ...")
    sample_seconds, summary, _job = import_file(path, org)
    check(summary, sample_expected, "the pipeline's sample")
    sample_rate = sample / sample_seconds
    say(f"[import]   {sample_seconds:.2f} s, {sample_rate:,.0f} rows/s")

    path, org, sample_expected = samples["orm"]
    say(f"[import] naive: member_enrol once per row ({sample:,} rows into a fresh union) ...")
    maps = {f: choice_map(f) for f in ("ethnicity", "education", "political_status", "hukou_type",
                                       "employment_form", "skill_level")}  # fmt: skip
    enrolled, refused = 0, Counter()
    started = time.perf_counter()
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for row in reader:
            try:
                member_enrol(
                    actor=actor,
                    org=org,
                    doc_type=DOC_TYPE_BY_LABEL.get(row[3], row[3]),
                    doc_number=row[4],
                    phone=row[5] or None,
                    joined_on=date.fromisoformat(row[15]) if row[15] else None,
                    source=MembershipSource.IMPORT,
                    name=row[1],
                    ethnicity=maps["ethnicity"].get(row[6], row[6]),
                    education=maps["education"].get(row[7], row[7]),
                    political_status=maps["political_status"].get(row[8], row[8]),
                    hukou_type=maps["hukou_type"].get(row[9], row[9]),
                    employment_form=maps["employment_form"].get(row[10], row[10]),
                    work_unit=row[11],
                    post=row[12],
                    skill_level=maps["skill_level"].get(row[13], row[13]),
                    is_model_worker=row[14] == "是",
                )
                enrolled += 1
            except DomainError as exc:
                refused[type(exc).__name__] += 1
    orm_seconds = time.perf_counter() - started
    assert enrolled == sample_expected["added"], (enrolled, sample_expected)
    orm_rate = sample / orm_seconds
    say(
        f"[import]   {orm_seconds:.1f} s, {orm_rate:,.0f} rows/s ({enrolled:,} enrolled, refused: "
        f"{', '.join(f'{n:,} {k}' for k, n in sorted(refused.items()))})"
    )

    path, org, sample_expected = samples["import_export"]
    say(f"[import] naive: django-import-export, ModelResource.import_data ({sample:,} rows into a fresh union) ...")
    resource_class = roster_resource_class()
    started = time.perf_counter()
    dataset = tablib.Dataset().load(path.read_bytes().decode("utf-8-sig"), format="csv")
    outcome = resource_class(org=org, today=today).import_data(dataset, dry_run=False)
    ie_seconds = time.perf_counter() - started
    totals = dict(outcome.totals)
    assert not outcome.has_errors(), [e.error for row in outcome.row_errors()[:3] for e in row[1]]
    assert totals["new"] == sample_expected["added"], (totals, sample_expected)
    assert totals["invalid"] == sample_expected["error"], (totals, sample_expected)
    ie_rate = sample / ie_seconds
    say(
        f"[import]   {ie_seconds:.1f} s, {ie_rate:,.0f} rows/s (new {totals['new']:,}, invalid "
        f"{totals['invalid']:,}, skipped {totals['skip']:,}; the default: one transaction, a savepoint per row)"
    )
    vs_orm, vs_ie = rate / orm_rate, rate / ie_rate
    say(
        f"[import]   the pipeline ({rate:,.0f} rows/s on {rows:,} rows) is {vs_orm:,.1f}x the member_enrol loop "
        f"and {vs_ie:,.1f}x django-import-export; on the same {sample:,}-row sample "
        f"{sample_rate / orm_rate:,.1f}x and {sample_rate / ie_rate:,.1f}x"
    )

    # ---- parsing a spreadsheet ----------------------------------------------------------------------------------
    xlsx_rows = size["xlsx_rows"]
    say(f"[import] parsing a {xlsx_rows:,}-row .xlsx with read_table (writing it, not timed) ...")
    block = serials.block(xlsx_rows)
    data = roster_xlsx(people.row(line, serial, NEW, unit_of(target)) for line, serial in enumerate(block, start=1))
    started = time.perf_counter()
    table = read_table(data, "x.xlsx", ROSTER_COLUMNS)
    xlsx_seconds = time.perf_counter() - started
    assert table.rows == xlsx_rows, table.rows
    say(f"[import]   {len(data) / 2**20:,.1f} MiB: {xlsx_seconds:.2f} s ({xlsx_rows / xlsx_seconds:,.0f} rows/s)")

    say(f"[import] load average now: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (other work skews timings)")
    result(
        {
            "bench": "import",
            "size": size_name,
            "db": vendor,
            "rows": rows,
            "seconds": round(seconds, 2),
            "rows_per_s": round(rate),
            "peak_mib": round(peak),
            "peak_mib_is": "delta" if reset and rss_before is not None else "process_peak",
            "process_peak_mib": round(process_peak),
            "rss_before_mib": round(rss_before) if rss_before is not None else None,
            "vs_orm": round(vs_orm, 1),
            "vs_import_export": round(vs_ie, 1),
            "xlsx_200k_seconds": round(xlsx_seconds, 2),
            "xlsx_rows": xlsx_rows,
            "file_mib": round(roster_mib, 1),
            "summary": dict(job.result["summary"]),
            "existing_members": existing,
            "members_here_after": members_here,
            "persons_after": Person.objects.count(),
            "preload_seconds": round(preload_seconds, 2),
            "preload_rows_per_s": round(existing / preload_seconds),
            "sample_rows": sample,
            "orm_seconds": round(orm_seconds, 2),
            "orm_rows_per_s": round(orm_rate),
            "import_export_seconds": round(ie_seconds, 2),
            "import_export_rows_per_s": round(ie_rate),
            "sample_pipeline_seconds": round(sample_seconds, 2),
            "sample_pipeline_rows_per_s": round(sample_rate),
            "sample_vs_orm": round(sample_rate / orm_rate, 1),
            "sample_vs_import_export": round(sample_rate / ie_rate, 1),
            "stage_seconds": {
                "request": stage["roster_import_request"],
                "request_read_table": round(reads[0], 2) if reads else None,
                "job": stage["roster_import_run"],
                "job_read_table": round(reads[1], 2) if len(reads) > 1 else None,
                "prepare_rows": stage["prepare_rows"],
                "merge_chunks": stage["merge_chunk"],
                "lookup": stage["_lookup"],
                "insert_people": stage["_insert_people"],
                "sealing": stage["_sealed_people"],
                "insert_memberships": stage["_insert_memberships"],
                "record_outcomes": stage["_record_outcomes"],
                "finish": stage["_finish"],
                "error_report": stage["error_report_xlsx"],
            },
            "load_average_end": [round(x, 2) for x in os.getloadavg()],
        }
    )


if __name__ == "__main__":
    main()
