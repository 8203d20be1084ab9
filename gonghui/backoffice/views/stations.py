"""Back-office pages of the stations: the station and demand-point sheet imports, and the 15-minute circle of any
organisation in scope with its map. Thin: build the actor, call the service or selector, render."""

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.templatetags.static import static

from gonghui.backoffice.base import or_404, render_page, report_domain_error, require_actor
from gonghui.backoffice.views.helpers import int_param
from gonghui.common.errors import DomainError
from gonghui.common.geo import region_bounds
from gonghui.common.roles import Perm
from gonghui.orgs.selectors import org_get_by_code, org_scope_root
from gonghui.stations.coverage import MAX_SUGGESTIONS, SOURCES, coverage_analyse
from gonghui.stations.imports import demand_points_import, stations_import
from gonghui.stations.regions import OUTLINES_STATIC
from gonghui.stations.selectors import open_stations_around
from gonghui.stations.travel import MODES

MAP_STATIONS = 5000


def _org_of(request, actor):
    code = (request.GET.get("org") or request.POST.get("org") or "").strip()
    if not code:
        return org_scope_root(actor=actor)
    return or_404(org_get_by_code, actor=actor, code=code)


def _import(request, *, title: str, kind: str):
    actor = require_actor(request)
    if not actor.can(Perm.STATIONS_MANAGE):
        raise DjangoPermissionDenied
    org = _org_of(request, actor)
    context = {"kind": kind, "org": org, "dry_run": True}
    if request.method == "POST":
        dry_run = bool(request.POST.get("dry_run"))
        upload = request.FILES.get("file")
        context["dry_run"] = dry_run
        try:
            if upload is None:
                raise DomainError("请选择要导入的文件", code="no_file")
            data = upload.read()
            if kind == "stations":
                result = stations_import(actor=actor, data=data, filename=upload.name, dry_run=dry_run)
            else:
                result = demand_points_import(actor=actor, org=org, data=data, filename=upload.name, dry_run=dry_run)
        except DomainError as exc:
            report_domain_error(request, exc)
        else:
            rows = sorted(result.rows, key=lambda r: (r.status != "error", r.line))
            context.update(result=result, summary=result.summary, rows=rows[:1000])
    return render_page(request, title, "backoffice/stations/import.html", **context)


def station_import(request):
    return _import(request, title="站点导入", kind="stations")


def demand_import(request):
    return _import(request, title="需求点导入", kind="demand")


def coverage_view(request):
    """15分钟服务圈: the covered share of the chosen demand, the uncovered points, suggested sites, and the map."""
    actor = require_actor(request)
    actor.require(Perm.STATIONS_VIEW)
    org = _org_of(request, actor)
    source = request.GET.get("source") if request.GET.get("source") in SOURCES else "points"
    mode = request.GET.get("mode") if request.GET.get("mode") in MODES else "walk"
    wanted = int_param(request, "suggestions", 10, 0, MAX_SUGGESTIONS)
    result = coverage_analyse(actor=actor, org=org, source=source, mode=mode, suggestions=wanted)
    stations = [
        {"name": station.name, "lat": station.lat, "lng": station.lng}
        for station in open_stations_around(result, limit=MAP_STATIONS)
    ]
    bounds = region_bounds()
    map_data = {
        "bounds": [[bounds.south, bounds.west], [bounds.north, bounds.east]],
        "tiles": {
            "url": settings.STATIONS_TILE_URL,
            "attribution": settings.STATIONS_TILE_ATTRIBUTION,
            "subdomains": settings.STATIONS_TILE_SUBDOMAINS,
        },
        "cells": [{"boundary": c.boundary, "demand": c.demand, "covered": c.covered} for c in result.layer],
        "uncovered": [{"name": p.name, "lat": p.lat, "lng": p.lng, "workers": p.workers} for p in result.uncovered],
        "suggestions": [{"lat": s.lat, "lng": s.lng, "adds": s.adds, "place": s.place} for s in result.suggestions],
        "stations": stations,
        "districts": static(OUTLINES_STATIC),
    }
    return render_page(
        request,
        "15分钟服务圈",
        "backoffice/stations/coverage.html",
        org=org,
        result=result,
        sources=SOURCES,
        modes=MODES,
        source=source,
        mode=mode,
        wanted=wanted,
        map_data=map_data,
    )
