"""Station endpoints: the nearest open stations to a point, and the 15-minute circle of an organisation in scope."""

from uuid import UUID

from django.utils import timezone
from ninja import Field, Query, Router, Schema

from gonghui.api.schemas import ErrorOut
from gonghui.common.roles import Perm
from gonghui.orgs.selectors import org_get
from gonghui.stations.coverage import MAX_SUGGESTIONS, coverage_analyse
from gonghui.stations.selectors import MAX_NEAREST, stations_nearest

router = Router(tags=["服务阵地"])


class NearestQuery(Schema):
    lat: float = Field(description="纬度（WGS84）")
    lng: float = Field(description="经度（WGS84）")
    limit: int = Field(5, ge=1, le=MAX_NEAREST)
    kind: str | None = None
    facility: str | None = None
    open_now: bool = False


class NearbyOut(Schema):
    id: UUID
    name: str
    kind: str
    kind_label: str
    address: str
    lat: float
    lng: float
    facilities: list[str]
    distance_m: int
    walk_minutes: int
    ride_minutes: int
    open_now: bool
    rating: float | None

    # Read from a Nearby: the station's own fields, then how far and how long.
    @staticmethod
    def resolve_id(nearby):
        return nearby.station.id

    @staticmethod
    def resolve_name(nearby):
        return nearby.station.name

    @staticmethod
    def resolve_kind(nearby):
        return nearby.station.kind

    @staticmethod
    def resolve_address(nearby):
        return nearby.station.address

    @staticmethod
    def resolve_lat(nearby):
        return nearby.station.lat

    @staticmethod
    def resolve_lng(nearby):
        return nearby.station.lng

    @staticmethod
    def resolve_facilities(nearby):
        return nearby.station.facilities

    @staticmethod
    def resolve_rating(nearby):
        return nearby.station.rating

    @staticmethod
    def resolve_kind_label(nearby) -> str:
        return nearby.station.get_kind_display()

    @staticmethod
    def resolve_distance_m(nearby) -> int:
        return round(nearby.distance_m)


@router.get(
    "/stations/nearest",
    response={200: list[NearbyOut], 422: ErrorOut},
    summary="最近的开放站点（直线距离，附步行、骑行时间估算）",
)
def nearest(request, params: Query[NearestQuery]):
    request.actor.require(Perm.STATIONS_VIEW)
    found = stations_nearest(
        lat=params.lat,
        lng=params.lng,
        now=timezone.localtime(),
        limit=params.limit,
        kind=params.kind,
        facility=params.facility,
        open_now=params.open_now,
    )
    return found


class CoverageQuery(Schema):
    source: str = Field("points", description="points（导入的需求点）| employers（企业）| grid（六边形网格）")
    mode: str = Field("walk", description="walk（步行 5 公里/小时）| ride（电动自行车 15 公里/小时）")
    suggestions: int = Field(10, ge=0, le=MAX_SUGGESTIONS)


class UncoveredOut(Schema):
    name: str
    lat: float
    lng: float
    workers: int
    nearest_m: int | None

    @staticmethod
    def resolve_nearest_m(point) -> int | None:
        return round(point.nearest_m) if point.nearest_m is not None else None


class SuggestionOut(Schema):
    lat: float
    lng: float
    place: str = Field(description="建议站点所在的区县和街道（镇），如“姑苏区双塔街道”")
    place_basis: str = Field(description="名称的依据：最近的站点或企业及其距离，或仅能确定区县的说明")
    adds: int
    adds_points: int
    share_after: str | None

    @staticmethod
    def resolve_share_after(suggestion) -> str | None:
        return str(suggestion.share_after) if suggestion.share_after is not None else None


class CoverageOut(Schema):
    org_id: UUID
    source: str
    mode: str
    minutes: int
    reach_m: int
    stations: int
    points: int
    points_covered: int
    demand: int
    demand_covered: int
    share: str | None
    uncovered: list[UncoveredOut]
    suggestions: list[SuggestionOut]

    @staticmethod
    def resolve_org_id(result):
        return result.org.id

    @staticmethod
    def resolve_reach_m(result) -> int:
        return round(result.reach_m)

    @staticmethod
    def resolve_share(result) -> str | None:
        return str(result.share) if result.share is not None else None


@router.get(
    "/stations/orgs/{org_id}/coverage",
    response={200: CoverageOut, 404: ErrorOut, 422: ErrorOut},
    summary="15分钟服务圈：覆盖率、未覆盖的需求点与建议新站点",
)
def coverage(request, org_id: UUID, params: Query[CoverageQuery]):
    actor = request.actor
    org = org_get(actor=actor, org_id=org_id)
    return coverage_analyse(
        actor=actor, org=org, source=params.source, mode=params.mode, suggestions=params.suggestions
    )
