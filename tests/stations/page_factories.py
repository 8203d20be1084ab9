"""Helpers of the service-station page, portal and API tests: the stations laid out, what a page shows."""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from gonghui.audit.models import AuditEvent
from gonghui.stations.models import DemandPoint, Station, StationRating

NOW = datetime(2026, 5, 20, 4, 0, tzinfo=UTC)  # Wednesday 12:00 in Asia/Shanghai


SZ, GS, T01, C1 = "SZ", "SZ-GS", "SZ-GS-T01", "SZ-GS-T01-C1"


E12, E123, WZ, WZT01 = "SZ-GS-T01-12", "SZ-GS-T01-123", "SZ-WZ", "SZ-WZ-T01"


MISSING_CODE = "SZ-NOPE-99"


P = {"lat": "31.3", "lng": "120.6"}


SWAPPED = "经纬度填反了：120.6 像是经度、31.3 像是纬度，请交换后重新填写"


# ---------------------------------------------------------------- the layout


@dataclass
class Layout:
    shuangta: Station  # 双塔驿站, SZ-GS-T01, 300 m north of P, always open
    zhuhui: Station  # 竹辉妈妈驿站, SZ-GS-T01-C1, 1,001 m north of P, weekday hours
    mudu: Station  # 木渎驿站, SZ-WZ-T01, 5,560 m south of P, evenings only
    paused: Station  # 十二号驿站, SZ-GS-T01-12, 56 m from P, paused
    closed: Station  # 一二三驿站, SZ-GS-T01-123, 11 m from P, withdrawn


# ---------------------------------------------------------------- helpers


def text(response) -> str:
    return response.content.decode()


def station_state() -> dict:
    """Everything the station pages may write (and the size of the audit trail), to prove a refusal wrote nothing."""
    return {
        "stations": sorted(
            Station.objects.values_list(
                "id",
                "org_id",
                "kind",
                "name",
                "address",
                "lat",
                "lng",
                "hours",
                "always_open",
                "holiday_rule",
                "holiday_hours",
                "facilities",
                "phone",
                "description",
                "status",
                "rating_count",
                "rating_total",
            )
        ),
        "ratings": sorted(StationRating.objects.values_list("station_id", "person_id", "stars", "comment")),
        "points": sorted(DemandPoint.objects.values_list("org_id", "name", "lat", "lng", "workers")),
        "audit": AuditEvent.objects.count(),
    }


def audits(action: str) -> list[tuple]:
    return [
        (e.actor_label, e.object_type, e.object_id, e.object_label, e.object_org_path, e.details)
        for e in AuditEvent.objects.filter(action=action).order_by("at", "id")
    ]


def csv_upload(name: str, lines: list[str]) -> SimpleUploadedFile:
    content = "\n".join(lines) + "\n"
    return SimpleUploadedFile(name, content.encode("utf-8"), content_type="text/csv")


# ---------------------------------------------------------------- portal members


@dataclass
class Worker:
    name: str
    number: str
    phone: str
    membership: object

    @property
    def person(self):
        return self.membership.person


def detail(station: Station, query: str = "lat=31.3&amp;lng=120.6") -> str:
    return f"{reverse('portal:station_detail', args=[station.id])}?{query}"


# ---------------------------------------------------------------- station pages


def station_page(station: Station, **query):
    return Client().get(reverse("portal:station_detail", args=[station.id]), query)
