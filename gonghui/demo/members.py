"""Demo members for `seed_demo`: workers spread over the grassroots unions (bigger unions get more), a few records
with the flaws real rosters have (no mobile, no work unit, a mobile shared by two people) so the data-quality page
has something to show, declared member totals a little above the registry, pending join applications (some
overdue) and transfers at every step (some escalated)."""

import random
from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from gonghui.common.actor import Actor
from gonghui.demo.people import WorkerFactory
from gonghui.members.documents import DocType, normalise_document
from gonghui.members.models import JoinApplication, Membership, MembershipSource, Person, TransferRequest
from gonghui.members.people import seal_document, seal_phone
from gonghui.members.services import (
    declared_total_record,
    join_application_submit,
    members_bulk_load,
    transfer_release,
    transfer_request,
    transfers_escalate_overdue,
)
from gonghui.orgs.models import GRASSROOTS_TYPES, Organisation, OrgStatus

FEATURED_UNION = "SZ-GS-T01-E001"  # the demo grassroots cadre's union gets a full roster and real work


def _person(worker, *, keep_phone: bool, keep_unit: bool, today) -> Person:
    person = Person(
        name=worker.name,
        ethnicity=worker.ethnicity,
        education=worker.education,
        political_status=worker.political_status,
        hukou_type=worker.hukou_type,
        employment_form=worker.employment_form,
        work_unit=worker.work_unit if keep_unit else "",
        post=worker.post,
        skill_level=worker.skill_level,
        is_model_worker=worker.is_model_worker,
    )
    seal_document(person, normalise_document(DocType.RESIDENT_ID, worker.doc_number, today=today))
    seal_phone(person, worker.phone if keep_phone else "")
    return person


def _shares(unions: list[Organisation], total: int, rng: random.Random) -> dict[str, int]:
    """Members per union: a skewed spread (most unions small, a few large), the featured union at least 60."""
    weights = [rng.paretovariate(1.6) for _ in unions]
    scale = total / sum(weights)
    counts = {u.code: int(w * scale) for u, w in zip(unions, weights, strict=True)}
    if FEATURED_UNION in counts:
        counts[FEATURED_UNION] = max(counts[FEATURED_UNION], min(60, total))
    short = total - sum(counts.values())
    for union in rng.sample(unions, k=len(unions)):
        if short <= 0:
            break
        counts[union.code] += 1
        short -= 1
    while short < 0:  # the featured minimum pushed us over: trim the biggest
        biggest = max(counts, key=lambda code: counts[code])
        counts[biggest] -= 1
        short += 1
    return counts


def seed_members(
    *, actor: Actor, members: int, seed: int, progress: Callable[[int], None] | None = None
) -> dict[str, int]:
    """Loads `members` members over the grassroots unions; `progress(done)` is called at every tenth of the way."""
    rng = random.Random(seed + 7)
    today = timezone.localdate()
    factory = WorkerFactory(seed=seed + 11, today=today)
    unions = list(Organisation.objects.filter(org_type__in=GRASSROOTS_TYPES, status=OrgStatus.ACTIVE).order_by("path"))
    if not unions:
        return {"members": 0, "applications": 0, "transfers": 0}
    counts = _shares(unions, members, rng)
    shared_phone = None
    loaded = reported = 0
    with transaction.atomic():
        for union in unions:
            n = counts[union.code]
            if not n:
                continue
            unit = union.name.removesuffix("工会委员会").removesuffix("联合工会委员会") or union.name
            workers = [factory.worker(unit) for _ in range(n)]
            people = []
            for worker in workers:
                person = _person(worker, keep_phone=rng.random() > 0.03, keep_unit=rng.random() > 0.02, today=today)
                if shared_phone and rng.random() < 0.004:
                    seal_phone(person, shared_phone)  # two people giving the same mobile: a data-quality finding
                shared_phone = worker.phone
                people.append(person)
            members_bulk_load(
                actor=actor,
                org=union,
                people=people,
                joined_on=[w.joined_on for w in workers],
                source=MembershipSource.IMPORT,
            )
            declared = round(n * rng.uniform(1.0, 1.07))
            declared_total_record(actor=actor, org=union, total=declared, as_of=today.replace(day=1))
            loaded += n
            if progress and loaded * 10 // members > reported:
                reported = loaded * 10 // members
                progress(loaded)
        applications = _seed_applications(actor, unions, factory, rng, members)
        transfers = _seed_transfers(actor, unions, rng, members)
    return {"members": members, "applications": applications, "transfers": transfers}


def _seed_applications(actor, unions, factory, rng, members: int) -> int:
    featured = [u for u in unions if u.code == FEATURED_UNION]
    targets = featured * 4 + rng.sample(unions, k=min(len(unions), max(1, members // 400)))
    created = []
    for union in targets:
        worker = factory.worker(union.name.removesuffix("工会委员会"))
        application = join_application_submit(
            actor=actor,
            org=union,
            doc_type=DocType.RESIDENT_ID,
            doc_number=worker.doc_number,
            phone=worker.phone,
            source=MembershipSource.ONLINE if rng.random() < 0.7 else MembershipSource.CADRE,
            consent=True,
            name=worker.name,
            ethnicity=worker.ethnicity,
            education=worker.education,
            political_status=worker.political_status,
            hukou_type=worker.hukou_type,
            employment_form=worker.employment_form,
            work_unit=worker.work_unit,
            post=worker.post,
            note="本人自愿加入工会，遵守工会章程。",
        )
        created.append(application)
    # A third have waited past the 15 working days: they show on the parent unions' workbenches.
    overdue = [a.id for a in created[1::3]]
    JoinApplication.objects.filter(id__in=overdue).update(due_on=timezone.localdate() - timedelta(days=3))
    return len(created)


def _seed_transfers(actor, unions, rng, members: int) -> int:
    wanted = max(3, members // 1000)
    featured = list(Membership.objects.filter(org__code=FEATURED_UNION, status="active").order_by("card_number")[:2])
    others = list(Membership.objects.filter(status="active").exclude(org__code=FEATURED_UNION).order_by("?")[:wanted])
    opened = []
    for membership in featured + others:
        target = rng.choice([u for u in unions if u.id != membership.org_id])
        opened.append(transfer_request(actor=actor, membership=membership, to_org=target, reason="工作调动"))
    for transfer in opened[1::2]:
        transfer_release(actor=actor, transfer=transfer)
    # Some have sat past their deadline and are escalated to the lowest common parent.
    stale = [t.id for t in opened[2::4]]
    TransferRequest.objects.filter(id__in=stale).update(due_on=timezone.localdate() - timedelta(days=2))
    transfers_escalate_overdue(actor=actor)
    return len(opened)
