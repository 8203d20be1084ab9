"""Service stations: registering, updating, pausing and withdrawing a station in scope, its photos and
its ratings."""

from datetime import date

import pytest

from gonghui.audit.models import AuditEvent
from gonghui.common.actor import system_actor
from gonghui.common.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from gonghui.orgs.services import org_dissolve
from gonghui.stations.models import Station, StationKind, StationRating, StationStatus
from gonghui.stations.selectors import public_stations, station_get, station_public_get, stations_of
from gonghui.stations.services import (
    station_create,
    station_photo_add,
    station_rate,
    station_status_set,
    station_update,
)
from tests.members.factories import enrol, resident_id
from tests.stations.factories import (
    C1,
    E12,
    E123,
    HERE,
    NO_POOL,
    NOT_FOUND,
    OUT_OF_SCOPE,
    T01,
    T02,
    WZT1,
    errors_of,
    make_station,
    north,
    nothing_changes,
    set_status,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32


GIF = b"GIF89a" + b"\x00" * 32


RATER = system_actor("portal")  # stands in for the member's actor (member_actor) in the audit trail


# ---------------------------------------------------------------------------------------------------------------
# Registering and changing stations


def test_a_cadre_registers_a_station_in_their_subtree_and_it_is_audited(tree, actors):
    station = station_create(
        actor=actors["town_cadre"],
        org=tree[C1],
        kind="女职工康乃馨服务站",
        name="  竹辉康乃馨服务站 ",
        address="竹辉路１８号",
        lat="31.2990",
        lng="120.6300",
        hours={"1": "08:00-12:00, 14:00-18:00", "6": "全天", "7": "休息"},
        holiday_rule="special",
        holiday_hours="09:00-12:00",
        facilities=["母婴室", "water", "饮水"],
        phone="0512-6524 1234",
        description=" 二楼 ",
    )

    station.refresh_from_db()
    assert (station.org_id, station.kind, station.name, station.address) == (
        tree[C1].id,
        StationKind.WOMEN,
        "竹辉康乃馨服务站",
        "竹辉路18号",
    )
    assert (station.lat, station.lng, station.always_open, station.status) == (31.299, 120.63, False, "open")
    assert station.hours == {
        "1": [["08:00", "12:00"], ["14:00", "18:00"]],
        "2": [],
        "3": [],
        "4": [],
        "5": [],
        "6": [["00:00", "24:00"]],
        "7": [],
    }
    assert (station.holiday_rule, station.holiday_hours) == ("special", [["09:00", "12:00"]])
    assert station.facilities == ["water", "nursing"]
    assert station.facility_labels == ["饮水", "母婴室"]
    assert (station.phone, station.description, station.rating) == ("051265241234", "二楼", None)
    event = AuditEvent.objects.get(action="station.create")
    assert (event.action, event.object_type, event.object_id, event.object_label, event.object_org_path) == (
        "station.create",
        "station",
        str(station.id),
        "竹辉康乃馨服务站",
        tree[C1].path,
    )
    assert (event.actor_label, event.details) == ("town_cadre", {"kind": "women"})


def test_a_station_outside_the_actors_subtree_is_refused_and_nothing_is_written(tree, actors):
    with nothing_changes(), pytest.raises(ValidationFailed) as exc:
        make_station(actors["district_cadre"], tree[WZT1], "木渎驿站", HERE)
    assert errors_of(exc) == {"org": OUT_OF_SCOPE}
    # The "12"/"123" pair: a grassroots cadre of 12 may not register a station for 123.
    with nothing_changes(), pytest.raises(ValidationFailed) as exc:
        make_station(actors["grassroots_cadre"], tree[E123], "一二三驿站", HERE)
    assert errors_of(exc) == {"org": OUT_OF_SCOPE}
    assert not Station.objects.exists()


def test_a_role_without_station_management_may_not_register_a_station(tree, actors):
    for username in ("auditor", "secadmin", "sysadmin"):
        with nothing_changes(), pytest.raises(PermissionDenied):
            make_station(actors[username], tree[T01], "驿站", HERE)


def test_registering_a_station_reports_every_missing_or_bad_field_at_once(tree, actors, system):
    dissolved = org_dissolve(actor=system, org=tree[C1], reason="社区合并")
    with nothing_changes(), pytest.raises(ValidationFailed) as exc:
        station_create(actor=actors["town_cadre"], org=tree[T01], name="", address="一号", lat="31.3", lng="120.6")
    assert errors_of(exc) == {"kind": "此项为必填项", "name": "此项为必填项"}

    with nothing_changes(), pytest.raises(ValidationFailed) as exc:
        station_create(
            actor=actors["town_cadre"],
            org=tree[T01],
            kind="驿站",
            name="驿站",
            address="一号",
            lat="31.3",
            lng="120.6",
            hours={"2": "08:00-25:00"},
            holiday_rule="sometimes",
            facilities=["饮水", "游泳池"],
            phone="12345",
        )
    assert errors_of(exc) == {
        "kind": "请选择站点类型",
        "hours_2": "周二：时间“25:00”不存在",
        "holiday_rule": "请选择法定节假日的开放方式",
        "facilities": NO_POOL,
        "phone": "联系电话不是有效的中国大陆号码，应为11位手机号或带区号的固定电话",
    }

    with nothing_changes(), pytest.raises(ValidationFailed) as exc:
        station_create(
            actor=actors["town_cadre"], org=tree[T01], kind="outdoor", name="驿站", address="一号", lat="31.3",
            lng="120.6",
        )  # fmt: skip
    assert errors_of(exc) == {"hours": "请至少填写一天的开放时间，或选择24小时开放"}

    with nothing_changes(), pytest.raises(ValidationFailed) as exc:
        make_station(actors["town_cadre"], tree[T01], "驿站", HERE, holiday_rule="special", holiday_hours="")
    assert errors_of(exc) == {"holiday_hours": "节假日“另定时间”时请填写节假日开放时间"}

    with nothing_changes(), pytest.raises(ValidationFailed) as exc:
        make_station(actors["town_cadre"], dissolved, "驿站", HERE)
    assert errors_of(exc) == {"org": "所选组织不是正常状态"}

    with nothing_changes(), pytest.raises(ValidationFailed) as exc:
        make_station(actors["town_cadre"], None, "驿站", HERE, address="x" * 201)
    assert errors_of(exc) == {"org": "请选择管理单位", "address": "地址不能超过 200 个字"}


def test_a_station_name_is_unique_within_its_managing_union_only(tree, actors):
    make_station(actors["town_cadre"], tree[T01], "双塔驿站", HERE)

    with nothing_changes(), pytest.raises(ValidationFailed) as exc:
        make_station(actors["town_cadre"], tree[T01], "双塔驿站", north(HERE, 300))
    assert errors_of(exc) == {"name": "本单位已有同名站点"}

    other = make_station(actors["town_cadre"], tree[C1], "双塔驿站", north(HERE, 300))
    assert other.org_id == tree[C1].id
    assert Station.objects.filter(name="双塔驿站").count() == 2


def test_station_get_finds_only_stations_in_scope(tree, actors, system):
    mine = make_station(system, tree[E12], "十二号驿站", HERE)
    theirs = make_station(system, tree[E123], "一二三驿站", HERE)

    assert station_get(actor=actors["grassroots_cadre"], station_id=mine.id) == mine
    assert station_get(actor=actors["grassroots_cadre"], station_id=str(mine.id)) == mine
    assert station_get(actor=actors["town_cadre"], station_id=theirs.id) == theirs
    for actor, station_id in (
        (actors["grassroots_cadre"], theirs.id),
        (actors["other_district_cadre"], mine.id),
        (actors["town_cadre"], "not-a-uuid"),
        (actors["town_cadre"], "00000000-0000-0000-0000-000000000000"),
    ):
        with pytest.raises(NotFound) as exc:
            station_get(actor=actor, station_id=station_id)
        assert exc.value.message == NOT_FOUND
    with pytest.raises(PermissionDenied):
        station_get(actor=actors["auditor"], station_id=mine.id)


def test_the_station_list_holds_only_the_subtree(tree, actors, system):
    make_station(system, tree[T01], "双塔驿站", HERE)
    make_station(system, tree[E12], "十二号驿站", HERE, kind=StationKind.HOME)
    make_station(system, tree[E123], "一二三驿站", HERE, address="凤凰街")
    set_status(system, make_station(system, tree[C1], "竹辉书屋", HERE, kind=StationKind.BOOKS), "closed")
    make_station(system, tree[T02], "沧浪驿站", HERE)
    make_station(system, tree[WZT1], "木渎驿站", HERE)

    def names(username, **filters):
        return [s.name for s in stations_of(actors[username], **filters)]

    assert names("city_cadre") == ["双塔驿站", "竹辉书屋", "十二号驿站", "一二三驿站", "沧浪驿站", "木渎驿站"]
    assert names("district_cadre") == ["双塔驿站", "竹辉书屋", "十二号驿站", "一二三驿站", "沧浪驿站"]
    assert names("town_cadre") == ["双塔驿站", "竹辉书屋", "十二号驿站", "一二三驿站"]
    assert names("grassroots_cadre") == ["十二号驿站"]
    assert names("other_district_cadre") == ["木渎驿站"]
    assert names("town_cadre", query="凤凰") == ["一二三驿站"]
    assert names("town_cadre", kind="home") == ["十二号驿站"]
    assert names("town_cadre", status="closed") == ["竹辉书屋"]
    with pytest.raises(PermissionDenied):
        stations_of(actors["secadmin"])


def test_an_update_audits_only_the_fields_that_changed(tree, actors):
    station = make_station(actors["town_cadre"], tree[T01], "双塔驿站", HERE, phone="13812341234")
    created_at = Station.objects.get().updated_at

    updated = station_update(
        actor=actors["town_cadre"],
        station=station,
        name="双塔驿站",
        phone="0512-65241234",
        facilities=["充电", "饮水"],
        lat="31.3",
        lng="120.6",
    )

    assert (updated.phone, updated.facilities) == ("051265241234", ["water", "charging"])
    event = AuditEvent.objects.filter(action="station.update").get()
    assert event.details == {"fields": ["facilities", "phone"]}
    assert (event.object_id, event.object_org_path, event.actor_label) == (
        str(station.id),
        tree[T01].path,
        "town_cadre",
    )
    assert Station.objects.get().updated_at > created_at

    with nothing_changes():  # the same values again: nothing to write, nothing to audit
        station_update(actor=actors["town_cadre"], station=station, phone="051265241234", facilities=["饮水", "充电"])


def test_an_update_out_of_scope_or_with_bad_values_changes_nothing(tree, actors, system):
    station = make_station(system, tree[T01], "双塔驿站", HERE)
    make_station(system, tree[T01], "十全街驿站", north(HERE, 500))

    with nothing_changes(), pytest.raises(NotFound):
        station_update(actor=actors["other_district_cadre"], station=station, phone="13812341234")
    with nothing_changes(), pytest.raises(NotFound):
        station_update(actor=actors["grassroots_cadre"], station=station, phone="13812341234")
    with nothing_changes(), pytest.raises(PermissionDenied):
        station_update(actor=actors["auditor"], station=station, phone="13812341234")
    with nothing_changes(), pytest.raises(ValidationFailed) as exc:
        station_update(actor=actors["town_cadre"], station=station, name="十全街驿站", phone="13812341234")
    assert errors_of(exc) == {"name": "本单位已有同名站点"}
    with nothing_changes(), pytest.raises(ValidationFailed) as exc:
        station_update(actor=actors["town_cadre"], station=station, lat="120.6", lng="31.3")
    assert errors_of(exc) == {"lat": "经纬度填反了：120.6 像是经度、31.3 像是纬度，请交换后重新填写"}


def test_an_update_may_not_leave_a_station_without_any_opening_hours(tree, actors):
    station = make_station(actors["town_cadre"], tree[T01], "双塔驿站", HERE)  # always open, no weekly hours

    with nothing_changes(), pytest.raises(ValidationFailed) as exc:
        station_update(actor=actors["town_cadre"], station=station, always_open=False)
    assert errors_of(exc) == {"hours": "请至少填写一天的开放时间，或选择24小时开放"}


def test_pausing_or_withdrawing_needs_a_reason_and_the_status_must_change(tree, actors):
    cadre = actors["town_cadre"]
    station = make_station(cadre, tree[T01], "双塔驿站", HERE)

    for status in (StationStatus.PAUSED, StationStatus.CLOSED):
        with nothing_changes(), pytest.raises(ValidationFailed) as exc:
            station_status_set(actor=cadre, station=station, status=status, reason="  ")
        assert errors_of(exc) == {"reason": "暂停或撤销站点请说明原因"}
    with nothing_changes(), pytest.raises(DomainError) as exc:
        station_status_set(actor=cadre, station=station, status=StationStatus.OPEN, reason="")
    assert exc.value.message == "站点已经是“开放”状态"
    with nothing_changes(), pytest.raises(ValidationFailed) as exc:
        station_status_set(actor=cadre, station=station, status="demolished", reason="拆除")
    assert errors_of(exc) == {"status": "请选择站点状态"}
    with nothing_changes(), pytest.raises(NotFound):
        station_status_set(actor=actors["other_district_cadre"], station=station, status="paused", reason="装修")

    paused = station_status_set(actor=cadre, station=station, status=StationStatus.PAUSED, reason=" 装修 ")
    assert Station.objects.get().status == paused.status == "paused"
    with nothing_changes(), pytest.raises(DomainError) as exc:
        station_status_set(actor=cadre, station=station, status=StationStatus.PAUSED, reason="还在装修")
    assert exc.value.message == "站点已经是“暂停”状态"
    station_status_set(actor=cadre, station=station, status=StationStatus.CLOSED, reason="撤并")
    station_status_set(actor=cadre, station=station, status=StationStatus.OPEN, reason="")  # reopened, no reason

    events = AuditEvent.objects.filter(action="station.status").order_by("at")
    assert [e.details for e in events] == [
        {"from": "open", "to": "paused", "reason": "装修"},
        {"from": "paused", "to": "closed", "reason": "撤并"},
        {"from": "closed", "to": "open", "reason": ""},
    ]
    assert Station.objects.get().status == "open"


def test_the_public_sees_open_and_paused_stations_but_not_withdrawn_ones(tree, system):
    open_one = make_station(system, tree[T01], "开放驿站", HERE, facilities=["饮水"])
    paused = set_status(system, make_station(system, tree[T01], "暂停驿站", HERE), "paused")
    closed = set_status(system, make_station(system, tree[T01], "撤销驿站", HERE), "closed")

    assert station_public_get(open_one.id) == open_one
    assert station_public_get(str(paused.id)).status == "paused"
    with pytest.raises(NotFound) as exc:
        station_public_get(closed.id)
    assert exc.value.message == "站点不存在或已撤销"
    with pytest.raises(NotFound):
        station_public_get("nonsense")
    assert [s.name for s in public_stations()] == ["开放驿站"]
    assert [s.name for s in public_stations(facility="water")] == ["开放驿站"]
    assert public_stations(facility="toilet") == []


# ---------------------------------------------------------------------------------------------------------------
# Photos


def test_jpeg_and_png_photos_are_recognised_by_content(tree, actors, media):
    station = make_station(actors["town_cadre"], tree[T01], "双塔驿站", HERE)

    jpeg = station_photo_add(actor=actors["town_cadre"], station=station, data=JPEG, caption=" 门头 ")
    png = station_photo_add(actor=actors["town_cadre"], station=station, data=PNG)

    assert (jpeg.content_type, jpeg.caption, jpeg.file.name.endswith(".jpg")) == ("image/jpeg", "门头", True)
    assert (png.content_type, png.file.name.endswith(".png")) == ("image/png", True)
    assert (media / jpeg.file.name).read_bytes() == JPEG
    assert (media / png.file.name).read_bytes() == PNG
    events = AuditEvent.objects.filter(action="station.photo").order_by("at")
    assert [e.details for e in events] == [{"photo": jpeg.id}, {"photo": png.id}]


def test_other_files_empty_or_oversized_photos_and_a_seventh_photo_are_refused(tree, actors):
    cadre = actors["town_cadre"]
    station = make_station(cadre, tree[T01], "双塔驿站", HERE)
    too_big = JPEG + b"\x00" * (5 * 1024 * 1024 - len(JPEG) + 1)
    for data, message in (
        (GIF, "只能上传 JPG 或 PNG 照片"),
        (b"%PDF-1.7\n", "只能上传 JPG 或 PNG 照片"),
        (b"\x89PNG", "只能上传 JPG 或 PNG 照片"),  # a truncated signature
        (b"", "请选择照片"),
        (too_big, "照片不能超过 5 MB"),
    ):
        with nothing_changes(), pytest.raises(ValidationFailed) as exc:
            station_photo_add(actor=cadre, station=station, data=data)
        assert errors_of(exc) == {"photo": message}

    largest = station_photo_add(actor=cadre, station=station, data=too_big[:-1])  # exactly 5 MiB
    assert largest.file.size == 5 * 1024 * 1024
    for _ in range(5):
        station_photo_add(actor=cadre, station=station, data=PNG)
    assert station.photos.count() == 6
    with nothing_changes(), pytest.raises(ValidationFailed) as exc:
        station_photo_add(actor=cadre, station=station, data=JPEG)
    assert errors_of(exc) == {"photo": "每个站点最多 6 张照片"}
    with nothing_changes(), pytest.raises(NotFound):
        station_photo_add(actor=actors["other_district_cadre"], station=station, data=JPEG)


# ---------------------------------------------------------------------------------------------------------------
# Ratings


@pytest.fixture
def people(tree, system):
    first = enrol(system, tree[E12], name="张伟", seq=11).person
    second = enrol(system, tree[E12], name="李娜", number=resident_id(date(1988, 3, 2), 22)).person
    return first, second


def test_a_member_rates_once_and_rating_again_replaces_the_stars(tree, system, people):
    first, second = people
    station = make_station(system, tree[T01], "双塔驿站", HERE)

    station_rate(actor=RATER, person=first, station=station, stars=4, comment="很方便")
    station.refresh_from_db()
    assert (station.rating_count, station.rating_total, station.rating) == (1, 4, 4.0)

    again = station_rate(actor=RATER, person=first, station=station, stars=2, comment=" 水不热 ")
    station.refresh_from_db()
    assert (station.rating_count, station.rating_total, station.rating) == (1, 2, 2.0)
    assert (again.stars, again.comment) == (2, "水不热")

    station_rate(actor=RATER, person=second, station=station, stars=5)
    station.refresh_from_db()
    assert (station.rating_count, station.rating_total, station.rating) == (2, 7, 3.5)
    assert sorted(StationRating.objects.values_list("person_id", "stars")) == sorted([(first.id, 2), (second.id, 5)])
    rated = AuditEvent.objects.filter(action="station.rate").order_by("at", "id")
    assert [(e.actor_label, e.object_id, e.object_org_path, e.details) for e in rated] == [
        ("portal", str(station.id), tree[T01].path, {"stars": stars}) for stars in (4, 2, 5)
    ]


def test_a_closed_or_paused_station_cannot_be_rated_and_bad_stars_are_refused(tree, system, people):
    first, _ = people
    station = make_station(system, tree[T01], "双塔驿站", HERE)
    station_rate(actor=RATER, person=first, station=station, stars=3)

    for stars in (0, 6, True, "5", 4.5):
        with nothing_changes(), pytest.raises(ValidationFailed) as exc:
            station_rate(actor=RATER, person=first, station=station, stars=stars)
        assert errors_of(exc) == {"stars": "请选择 1 到 5 颗星"}
    with nothing_changes(), pytest.raises(ValidationFailed) as exc:
        station_rate(actor=RATER, person=first, station=station, stars=5, comment="好" * 201)
    assert errors_of(exc) == {"comment": "评价不能超过 200 字"}
    for status in ("paused", "closed"):
        set_status(system, station, status)
        with nothing_changes(), pytest.raises(NotFound) as exc:
            station_rate(actor=RATER, person=first, station=station, stars=5)
        assert exc.value.message == "站点不存在或未开放"
    station.refresh_from_db()
    assert (station.rating_count, station.rating_total) == (1, 3)
