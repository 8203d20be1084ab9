"""Key rotation of the registry's sealed numbers: a record sealed under the old keys stays readable while the
old encryption key is listed, `people_reseal` moves everything to the new keys, and afterwards lookups by the
blind index work with the old keys gone."""

import os

from stdnum.cn import ric

from gonghui.members.documents import DocType
from gonghui.members.models import Person
from gonghui.members.people import document_index, document_number_of, phone_index, phone_of
from gonghui.members.search import MemberQuery, member_search
from gonghui.members.services import member_enrol, people_reseal


def _key() -> bytes:
    return os.urandom(32)


def _id(seq: str) -> str:
    body = "320506" + "19880312" + seq
    return body + ric.calc_check_digit(body + "0")


def test_rotation_keeps_every_record_readable_and_findable(tree, actors, settings):
    number = _id("417")
    member_enrol(
        actor=actors["grassroots_cadre"],
        org=tree["SZ-GS-T01-12"],
        doc_type=DocType.RESIDENT_ID,
        doc_number=number,
        name="周晓",
        phone="13912345678",
    )
    old_encryption, old_index = settings.FIELD_ENCRYPTION_KEY, settings.BLIND_INDEX_KEY
    before = Person.objects.get()
    sealed_before = bytes(before.doc_number_enc)

    settings.FIELD_ENCRYPTION_KEY, settings.BLIND_INDEX_KEY = _key(), _key()
    settings.FIELD_ENCRYPTION_OLD_KEYS = [old_encryption]
    assert document_number_of(before) == number  # still readable through the old key
    assert before.doc_index != document_index(DocType.RESIDENT_ID, number)  # but not findable under the new index key

    assert people_reseal(batch_size=1) == 1

    settings.FIELD_ENCRYPTION_OLD_KEYS = []
    after = Person.objects.get()
    assert bytes(after.doc_number_enc) != sealed_before
    assert document_number_of(after) == number
    assert phone_of(after) == "13912345678"
    assert after.doc_index == document_index(DocType.RESIDENT_ID, number)
    assert after.phone_index == phone_index("13912345678")
    found = member_search(actor=actors["city_cadre"], query=MemberQuery(doc_number=number))
    assert [m.person.name for m in found] == ["周晓"]
    assert old_index != settings.BLIND_INDEX_KEY
