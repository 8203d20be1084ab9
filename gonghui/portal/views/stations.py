"""The public e-map of service stations (服务站点地图) and each station's page. Open to everyone: stations are public
places. The nearest stations come from the phone's position or a point chosen on the map; without JavaScript the
page still lists them for coordinates in the address."""

import contextlib
from urllib.parse import urlencode

from django.conf import settings
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from gonghui.common.errors import DomainError, NotFound, ValidationFailed
from gonghui.common.geo import clean_coordinates, distance_m, region_bounds
from gonghui.members.member_accounts import member_actor
from gonghui.members.selectors import own_person
from gonghui.portal.forms import StationRatingForm, form_errors
from gonghui.portal.session import client_ip, current_account
from gonghui.portal.views.common import _errors, _page
from gonghui.portal.views.services import RATING_STARS
from gonghui.stations.hours import holiday_text, is_open_at, week_table
from gonghui.stations.models import Facility, StationKind, StationStatus
from gonghui.stations.navigation import walking_links
from gonghui.stations.regions import OUTLINES_STATIC
from gonghui.stations.selectors import (
    public_stations,
    station_photo_public_get,
    station_public_get,
    stations_nearest,
)
from gonghui.stations.services import station_rate
from gonghui.stations.travel import RIDE, WALK, distance_text, duration_text


def _filters(request) -> dict:
    kind = request.GET.get("kind", "")
    facility = request.GET.get("facility", "")
    return {
        "kind": kind if kind in StationKind.values else "",
        "facility": facility if facility in Facility.values else "",
        "open_now": request.GET.get("open") == "1",
    }


def _nearest(request, filters: dict):
    """(nearest list, error) for the lat/lng in the address, or (None, None) when there is none."""
    lat, lng = request.GET.get("lat"), request.GET.get("lng")
    if not lat or not lng:
        return None, None
    try:
        found = stations_nearest(
            lat=lat,
            lng=lng,
            now=timezone.localtime(),
            limit=5,
            kind=filters["kind"] or None,
            facility=filters["facility"] or None,
            open_now=filters["open_now"],
        )
    except ValidationFailed as exc:
        return None, next(iter(exc.errors.values()))
    return found, None


def station_map(request):
    filters = _filters(request)
    nearest, error = _nearest(request, filters)
    bounds = region_bounds()
    stations = public_stations(kind=filters["kind"] or None, facility=filters["facility"] or None)
    map_data = {
        "bounds": [[bounds.south, bounds.west], [bounds.north, bounds.east]],
        "tiles": {
            "url": settings.STATIONS_TILE_URL,
            "attribution": settings.STATIONS_TILE_ATTRIBUTION,
            "subdomains": settings.STATIONS_TILE_SUBDOMAINS,
        },
        "stations": [
            {"id": str(s.id), "name": s.name, "lat": s.lat, "lng": s.lng, "kind": s.get_kind_display()}
            for s in stations
        ],
        "detail": reverse("portal:station_detail", args=["00000000-0000-0000-0000-000000000000"]),
        "districts": static(OUTLINES_STATIC),
    }
    return _page(
        request,
        "portal/station_map.html",
        filters=filters,
        kinds=StationKind.choices,
        facilities=Facility.choices,
        nearest=nearest,
        error=error,
        point=(request.GET.get("lat"), request.GET.get("lng")) if nearest is not None else None,
        map_data=map_data,
        station_count=len(stations),
    )


def station_nearest(request):
    """The nearest-stations list alone (the map page's script puts it in place)."""
    filters = _filters(request)
    nearest, error = _nearest(request, filters)
    return _page(request, "portal/_station_nearest.html", nearest=nearest, error=error, filters=filters)


def _detail_context(request, station) -> dict:
    """The station page's figures: distance and travel times from the asked point (when the address carries a
    valid one), and the walking directions in the phone's map (from that point too)."""
    origin = None
    if request.GET.get("lat") and request.GET.get("lng"):
        with contextlib.suppress(ValidationFailed):  # an unusable point: the page then shows no distance
            origin = clean_coordinates(request.GET["lat"], request.GET["lng"])
    distance = distance_m(*origin, station.lat, station.lng) if origin else None
    return {
        "station": station,
        "open_now": station.status == StationStatus.OPEN and is_open_at(station, timezone.localtime()),
        "week": week_table(station),
        "holidays": holiday_text(station),
        "distance": distance_text(distance) if distance is not None else None,
        "walk_time": duration_text(WALK.minutes(distance)) if distance is not None else None,
        "ride_time": duration_text(RIDE.minutes(distance)) if distance is not None else None,
        "nav_links": walking_links(name=station.name, lat=station.lat, lng=station.lng, origin=origin),
        "stars": RATING_STARS,
    }


def station_detail(request, station_id: str):
    try:
        station = station_public_get(station_id)
    except NotFound:
        raise Http404 from None
    rated = request.GET.get("rated") == "1"
    return _page(request, "portal/station_detail.html", **_detail_context(request, station), rated=rated)


@require_POST
def station_rate_view(request, station_id: str):
    try:
        station = station_public_get(station_id)
    except NotFound:
        raise Http404 from None
    account = current_account(request)
    if account is None:  # signed out (or the session ran out): sign in, then back to the station's page
        back = reverse("portal:station_detail", args=[station.id])
        return redirect(f"{reverse('portal:login')}?{urlencode({'next': back})}")
    person = own_person(account=account)
    if person is None:
        raise Http404
    form = StationRatingForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationFailed(form_errors(form))
        station_rate(
            actor=member_actor(account, ip=client_ip(request)),
            person=person,
            station=station,
            stars=form.cleaned_data["stars"],
            comment=form.cleaned_data["comment"],
        )
    except DomainError as exc:
        errors = _errors(exc)
        # What was typed comes back as typed, the stars too.
        typed = {"stars": form.data.get("stars", ""), "comment": form.data.get("comment", "")}
        return _page(
            request,
            "portal/station_detail.html",
            **_detail_context(request, station),
            errors=errors,
            rating_values=typed,
        )
    return redirect(f"{reverse('portal:station_detail', args=[station.id])}?rated=1")


def station_photo(request, photo_id: str):
    """A station's photo, served through the application (MEDIA_ROOT is never served by the web server)."""
    try:
        photo = station_photo_public_get(photo_id)
    except NotFound:
        raise Http404 from None
    return FileResponse(photo.file.open("rb"), content_type=photo.content_type)
