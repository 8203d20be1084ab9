"""会员卡号 and loading many members at once: card serials drawn per region and year under a row lock, the bulk
load of checked new people (demo data, imports), and the key rotation of the sealed numbers."""

from datetime import date

from django.db import transaction
from django.utils import timezone
from stdnum import luhn

from gonghui.common.actor import Actor
from gonghui.common.crypto import encrypt_text
from gonghui.common.errors import DomainError
from gonghui.members import events
from gonghui.members.figures import bulk_started, figures_record
from gonghui.members.models import CardSerial, Membership, MembershipStatus, Person
from gonghui.members.people import DOC_CONTEXT, document_index, document_number_of, phone_of, quality_flags, seal_phone
from gonghui.members.services._common import _require_manage, _require_open_union
from gonghui.orgs.models import Organisation


def _next_card_number(org: Organisation, on: date) -> str:
    """会员卡号: 6-digit region code of the union + 4-digit year of issue + 6-digit serial + Luhn check digit,
    17 digits. Serials are drawn per region and year under a row lock."""
    serial, _ = CardSerial.objects.select_for_update().get_or_create(region_code=org.region_code, year=on.year)
    if serial.last >= 999_999:
        raise DomainError(f"{org.region_code} 地区 {on.year} 年的会员卡号已用完，请联系系统管理员")
    serial.last += 1
    serial.save(update_fields=["last"])
    body = f"{org.region_code}{on.year:04d}{serial.last:06d}"
    return body + luhn.calc_check_digit(body)


def card_serials_reserve(org: Organisation, on: date, count: int) -> int:
    """Reserve `count` consecutive card serials of `org`'s region and year under the serial row's lock; the first."""
    serial, _ = CardSerial.objects.select_for_update().get_or_create(region_code=org.region_code, year=on.year)
    if serial.last + count > 999_999:
        raise DomainError(f"{org.region_code} 地区 {on.year} 年的会员卡号已用完，请联系系统管理员")
    first = serial.last + 1
    serial.last += count
    serial.save(update_fields=["last"])
    return first


def _card_numbers(org: Organisation, on: date, count: int) -> list[str]:
    """`count` consecutive card numbers for `org`'s region, drawn under the serial row's lock."""
    first = card_serials_reserve(org, on, count)
    numbers = []
    for value in range(first, first + count):
        body = f"{org.region_code}{on.year:04d}{value:06d}"
        numbers.append(body + luhn.calc_check_digit(body))
    return numbers


@transaction.atomic
def members_bulk_load(
    *, actor: Actor, org: Organisation, people: list[Person], joined_on: list[date], source: str
) -> list[Membership]:
    """Insert already-sealed, validated new people as active members of `org` in one go (demo data, imports of
    a checked file). The caller guarantees the people are new; the database constraints still hold the line.
    One audit event for the batch."""
    _require_manage(actor, org)
    _require_open_union(org)
    if len(people) != len(joined_on):
        raise ValueError("people and joined_on must have the same length")
    if not people:
        return []
    today = timezone.localdate()
    for person in people:
        person.quality_flags = quality_flags(person, today=today)
    Person.objects.bulk_create(people, batch_size=2000)
    cards = _card_numbers(org, today, len(people))
    memberships = [
        Membership(
            person=person, org=org, status=MembershipStatus.ACTIVE, joined_on=joined, source=source, card_number=card
        )
        for person, joined, card in zip(people, joined_on, cards, strict=True)
    ]
    Membership.objects.bulk_create(memberships, batch_size=2000)
    events.members_bulk_loaded(actor, org, count=len(memberships), source=source)
    figures_record([bulk_started(org, people, joined_on)])
    return memberships


def people_reseal(*, batch_size: int = 1000) -> int:
    """Key rotation: re-encrypt every document number and mobile with the current FIELD_ENCRYPTION_KEY and
    recompute both blind indexes with the current BLIND_INDEX_KEY. Idempotent; each batch is one transaction.
    Returns the number of people rewritten."""
    rewritten = 0
    last_id = None
    while True:
        page = Person.objects.order_by("id")
        if last_id is not None:
            page = page.filter(id__gt=last_id)
        ids = list(page.values_list("id", flat=True)[:batch_size])
        if not ids:
            return rewritten
        with transaction.atomic():
            people = list(Person.objects.select_for_update().filter(id__in=ids).order_by("id"))
            for person in people:
                number, phone = document_number_of(person), phone_of(person)
                person.doc_number_enc = encrypt_text(number, context=DOC_CONTEXT)
                person.doc_index = document_index(person.doc_type, number)
                seal_phone(person, phone)
            Person.objects.bulk_update(people, ["doc_number_enc", "doc_index", "phone_enc", "phone_index"])
        rewritten += len(people)
        last_id = ids[-1]
