"""Back office: the station registry (服务站点). The list is the admin's; add and change go through the station
services (scope, checks, audit). Status changes need a reason and are audited apart."""

from django import forms
from django.contrib import admin
from django.utils import timezone
from unfold.decorators import display

from gonghui.backoffice.base import ScopedModelAdmin, require_actor
from gonghui.backoffice.exports import ListExportMixin
from gonghui.backoffice.site import backoffice_site
from gonghui.common.errors import NotFound, ValidationFailed
from gonghui.common.roles import Perm
from gonghui.orgs.selectors import org_get_by_code
from gonghui.stations.hours import HOLIDAY_RULES, WEEKDAYS, is_open_at
from gonghui.stations.models import Facility, Station, StationStatus
from gonghui.stations.selectors import station_get, stations_of
from gonghui.stations.services import (
    clean_station_fields,
    photo_check,
    station_create,
    station_name_check,
    station_photo_add,
    station_status_set,
    station_update,
)

BASIC_FIELDS = ["org_code", "kind", "name", "address", "phone", "description"]
HOURS_FIELDS = [f"hours_{day}" for day in WEEKDAYS]
COORD_SYSTEMS = [("wgs84", "WGS84 / CGCS2000（天地图、GPS）"), ("gcj02", "GCJ-02（高德、腾讯地图上取的点）")]


def _intervals_text(intervals: list[list[str]]) -> str:
    """Intervals as the form takes them back: "08:00-12:00, 22:00-06:00"."""
    return ", ".join(f"{opens}-{closes}" for opens, closes in intervals)


class StationForm(forms.ModelForm):
    takes_request = True
    org_code = forms.CharField(label="管理单位代码", max_length=32)
    lat = forms.CharField(label="纬度", max_length=20, help_text="十进制度数，如 31.2990")
    lng = forms.CharField(label="经度", max_length=20, help_text="十进制度数，如 120.5853")
    coord_system = forms.ChoiceField(label="坐标系", choices=COORD_SYSTEMS, initial="wgs84")
    hours_1 = forms.CharField(
        label="周一开放时间", required=False, help_text="如 08:00-20:00；多段用逗号分开；跨夜写 22:00-06:00；不开放留空"
    )
    hours_2 = forms.CharField(label="周二开放时间", required=False)
    hours_3 = forms.CharField(label="周三开放时间", required=False)
    hours_4 = forms.CharField(label="周四开放时间", required=False)
    hours_5 = forms.CharField(label="周五开放时间", required=False)
    hours_6 = forms.CharField(label="周六开放时间", required=False)
    hours_7 = forms.CharField(label="周日开放时间", required=False)
    always_open = forms.BooleanField(label="24小时开放", required=False)
    holiday_rule = forms.ChoiceField(label="法定节假日", choices=list(HOLIDAY_RULES.items()), initial="regular")
    holiday_hours = forms.CharField(label="节假日开放时间", required=False, help_text="选择“另定时间”时填写")
    facilities = forms.MultipleChoiceField(
        label="设施", choices=Facility.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    status_reason = forms.CharField(label="状态变更原因", required=False, help_text="暂停或撤销站点时必填")
    photo = forms.FileField(label="添加照片", required=False, help_text="JPG 或 PNG，不超过 5 MB，每个站点最多 6 张")
    photo_caption = forms.CharField(label="照片说明", required=False, max_length=100)

    class Meta:
        model = Station
        fields = ["kind", "name", "address", "phone", "description", "status"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        station = self.instance
        if not station._state.adding and not self.is_bound:
            self.initial.update(
                org_code=station.org.code,
                lat=f"{station.lat:.7f}",
                lng=f"{station.lng:.7f}",
                always_open=station.always_open,
                holiday_rule=station.holiday_rule,
                holiday_hours=_intervals_text(station.holiday_hours),
                facilities=station.facilities,
                **{f"hours_{day}": _intervals_text(station.hours.get(str(day), [])) for day in WEEKDAYS},
            )

    def validate_unique(self):
        """Checked by the station services."""

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        actor = require_actor(self.request)
        try:
            self.org = org_get_by_code(actor=actor, code=cleaned["org_code"])
        except NotFound:
            self.add_error("org_code", "找不到该代码的组织，或不在您的管辖范围内")
            return cleaned
        if not self.instance._state.adding and self.org.id != self.instance.org_id:
            self.add_error("org_code", "站点的管理单位不能修改；如站点移交，请撤销后由新的管理单位登记")
            return cleaned
        self.service_fields = {
            "kind": cleaned["kind"],
            "name": cleaned["name"],
            "address": cleaned["address"],
            "lat": cleaned["lat"],
            "lng": cleaned["lng"],
            "coord_system": cleaned["coord_system"],
            "always_open": cleaned["always_open"],
            "hours": {str(day): cleaned.get(f"hours_{day}", "") for day in WEEKDAYS},
            "holiday_rule": cleaned["holiday_rule"],
            "holiday_hours": cleaned.get("holiday_hours", ""),
            "facilities": cleaned.get("facilities") or [],
            "phone": cleaned.get("phone", ""),
            "description": cleaned.get("description", ""),
        }
        try:
            clean_station_fields(self.service_fields)
            station_name_check(
                org=self.org,
                name=cleaned["name"],
                station_id=None if self.instance._state.adding else self.instance.id,
            )
        except ValidationFailed as exc:
            for field, message in exc.errors.items():
                self.add_error(field if field in self.fields else None, message)
        upload = cleaned.get("photo")
        if upload:
            before_count = 0 if self.instance._state.adding else self.instance.photos.count()
            try:
                photo_check(upload.read(), photos_before=before_count)
            except ValidationFailed as exc:
                self.add_error("photo", exc.message)
            upload.seek(0)
        status = cleaned.get("status")
        before = None if self.instance._state.adding else self.instance.status
        if status != StationStatus.OPEN and status != before and not cleaned.get("status_reason", "").strip():
            self.add_error("status_reason", "暂停或撤销站点请说明原因")
        return cleaned


@admin.register(Station, site=backoffice_site)
class StationAdmin(ListExportMixin, ScopedModelAdmin):
    view_perm = Perm.STATIONS_VIEW
    change_perm = Perm.STATIONS_MANAGE
    form = StationForm
    list_display = ["name", "kind", "org", "address", "hours_today", "rating_shown", "status_shown"]
    list_filter = ["kind", "status"]
    search_fields = ["name", "address"]
    list_select_related = ["org"]

    def scoped_queryset(self, actor):
        return stations_of(actor)

    def get_fieldsets(self, request, obj=None):
        return [
            (
                None,
                {"fields": ["org_code", "kind", "name", "address", "phone", "description", "status", "status_reason"]},
            ),
            ("位置", {"fields": ["lat", "lng", "coord_system"]}),
            (
                "开放时间",
                {"fields": ["always_open", *[f"hours_{d}" for d in WEEKDAYS], "holiday_rule", "holiday_hours"]},
            ),
            ("设施", {"fields": ["facilities"]}),
            ("照片", {"fields": ["photo", "photo_caption"]}),
        ]

    @display(description="此刻")
    def hours_today(self, obj):
        if obj.status != StationStatus.OPEN:
            return "—"
        return "开放中" if is_open_at(obj, timezone.localtime()) else "不在开放时间"

    @display(description="评分")
    def rating_shown(self, obj):
        return f"{obj.rating} 星（{obj.rating_count} 人）" if obj.rating_count else "暂无评价"

    @display(description="状态", label={"开放": "success", "暂停": "warning", "撤销": "danger"})
    def status_shown(self, obj):
        return obj.get_status_display()

    def save_model(self, request, obj, form, change):
        actor = require_actor(request)
        status = form.cleaned_data["status"]
        if change:
            station = station_get(actor=actor, station_id=obj.id)
            saved = station_update(actor=actor, station=station, **form.service_fields)
        else:
            saved = station_create(actor=actor, org=form.org, **form.service_fields)
        upload = form.cleaned_data.get("photo")
        if upload:
            station_photo_add(
                actor=actor, station=saved, data=upload.read(), caption=form.cleaned_data.get("photo_caption", "")
            )
        if saved.status != status:
            saved = station_status_set(
                actor=actor, station=saved, status=status, reason=form.cleaned_data.get("status_reason", "")
            )
        obj.pk = saved.pk
        obj.__dict__.update(saved.__dict__)

    def log_addition(self, *args, **kwargs):
        pass

    def log_change(self, *args, **kwargs):
        pass
