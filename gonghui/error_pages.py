"""The error pages (404, 403, 500 and a refused form token), in Chinese, each with its own interface's way back: a
back-office address gets a page that leads to the workbench, anything else the portal's page that leads home.

An error page is the same bytes for everyone at the same address kind: it names nothing of the request, so an
object outside the reader's scope answers exactly like a missing one."""

from django.shortcuts import render

BACK_OFFICE_PREFIX = "/admin/"

NOT_FOUND = ("页面不存在", "您访问的页面不存在或您无权查看。")
FORBIDDEN = ("无权访问", "您的账号没有进行此项操作的权限。如需办理，请联系上级工会或系统管理员。")
SERVER_ERROR = ("系统繁忙", "系统暂时无法处理您的请求，请稍后再试。")
CSRF_FAILED = ("页面已过期", "页面已过期或来源不明，请返回后刷新页面再试。")


def _error_page(request, text: tuple[str, str], status: int):
    back_office = request.path_info.startswith(BACK_OFFICE_PREFIX)
    template = "backoffice/error.html" if back_office else "portal/error.html"
    title, message = text
    return render(request, template, {"title": title, "message": message}, status=status)


def not_found(request, exception=None):
    return _error_page(request, NOT_FOUND, 404)


def forbidden(request, exception=None):
    return _error_page(request, FORBIDDEN, 403)


def server_error(request):
    return _error_page(request, SERVER_ERROR, 500)


def csrf_failure(request, reason=""):
    return _error_page(request, CSRF_FAILED, 403)
