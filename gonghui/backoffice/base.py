"""What every back-office page shares: the actor of the request, and a ModelAdmin base that scopes every list,
choice, autocomplete and action through the domain selectors and answers 404 for anything out of scope."""

from functools import wraps

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import URLPattern
from unfold.admin import ModelAdmin

from gonghui.accounts.actors import actor_for_user
from gonghui.accounts.second_factor import second_factor_step
from gonghui.common.actor import Actor
from gonghui.common.errors import DomainError, NotFound, PermissionDenied, ValidationFailed


def request_actor(request) -> Actor | None:
    """The actor of a back-office request, built once per request; None for anyone who may not act here."""
    if hasattr(request, "_gonghui_actor"):
        return request._gonghui_actor
    actor = None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and second_factor_step(user) is None:
        try:
            actor = actor_for_user(user, ip=request.META.get("REMOTE_ADDR"))
        except PermissionDenied:
            actor = None
    request._gonghui_actor = actor
    return actor


def require_actor(request) -> Actor:
    actor = request_actor(request)
    if actor is None:
        raise Http404
    return actor


def report_domain_error(request, exc: DomainError, form=None) -> None:
    """Show a refused service call to the user: on the form fields when there is a form, else as a message."""
    if isinstance(exc, ValidationFailed) and form is not None:
        for field, message in exc.errors.items():
            form.add_error(field if field in form.fields else None, message)
        return
    messages.error(request, exc.message)


class ScopedModelAdmin(ModelAdmin):
    """Base for every admin of scoped data.

    Subclasses name the permission needed to see (`view_perm`) and change (`change_perm`) and implement
    `scoped_queryset(actor)` by calling the domain selector. Django's own add/change/delete permissions are replaced
    by the role table; deletion is never offered (domain services dissolve, deactivate or revoke instead).
    """

    view_perm: str = ""
    change_perm: str | None = None
    add_perm: str | None = None
    list_per_page = 50
    show_full_result_count = False

    def scoped_queryset(self, actor: Actor):
        raise NotImplementedError

    def get_form(self, request, obj=None, change=False, **kwargs):
        """Forms of scoped admins resolve organisation codes through the actor, so they receive the request."""
        form_class = super().get_form(request, obj, change=change, **kwargs)
        if not getattr(form_class, "takes_request", False):
            return form_class

        class RequestForm(form_class):
            def __init__(self, *args, **inner):
                super().__init__(*args, request=request, **inner)

        return RequestForm

    def get_queryset(self, request):
        actor = request_actor(request)
        if actor is None or not actor.can(self.view_perm):
            return self.model.objects.none()
        return self.scoped_queryset(actor)

    def has_module_permission(self, request):
        actor = request_actor(request)
        return actor is not None and actor.can(self.view_perm)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        actor = request_actor(request)
        return actor is not None and bool(self.change_perm) and actor.can(self.change_perm)

    def has_add_permission(self, request):
        actor = request_actor(request)
        perm = self.add_perm or self.change_perm
        return actor is not None and bool(perm) and actor.can(perm)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @property
    def urls(self):
        """Every page of one record (Django's change, history and delete pages and the actions subclasses add) answers
        404 when the id in its URL cannot be a primary key of this model, before any view code runs: Django's
        `<path:object_id>` also matches "a/b", which a view would pass on to reverse() or to a UUID lookup."""
        return [self._guard_object_id(pattern) for pattern in self.get_urls()]

    def _guard_object_id(self, pattern):
        if not isinstance(pattern, URLPattern) or "object_id" not in getattr(pattern.pattern, "converters", {}):
            return pattern
        view = pattern.callback
        pk = self.model._meta.pk

        @wraps(view)
        def guarded(request, *args, object_id, **kwargs):
            # A real id never holds "/": the admin quotes it in URLs ("_2F").
            if "/" in object_id:
                raise Http404
            try:
                pk.to_python(unquote(object_id))
            except (ValidationError, ValueError, TypeError):
                raise Http404 from None
            return view(request, *args, object_id=object_id, **kwargs)

        return URLPattern(pattern.pattern, guarded, pattern.default_args, pattern.name)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Missing and out-of-scope objects must look the same: a plain 404, never a hint.
        raise Http404

    def save_model(self, request, obj, form, change):  # pragma: no cover - every subclass writes via services
        raise NotImplementedError("admin writes go through domain services")

    def delete_model(self, request, obj):  # pragma: no cover
        raise NotImplementedError


def render_page(request, title: str, template: str, **context):
    """A back-office page of our own, inside the admin site's frame (sidebar, header, messages)."""
    from django.template.response import TemplateResponse

    from gonghui.backoffice.site import backoffice_site

    return TemplateResponse(request, template, {**backoffice_site.each_context(request), "title": title, **context})


def last_page(count: int, page_size: int) -> int:
    """The number of the last page of `count` rows (1 when there are none)."""
    return max(1, -(-count // page_size))


def or_404(fn, **kwargs):
    """Call a scoped getter; missing and out-of-scope both become the same plain 404."""
    try:
        return fn(**kwargs)
    except NotFound:
        raise Http404 from None
