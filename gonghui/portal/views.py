"""The member portal (H5). For now: the home page and the health check; member services arrive with the
registry and portal modules."""

from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render


def home(request):
    return render(request, "portal/home.html")


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def not_found(request, exception=None):
    return render(
        request,
        "portal/error.html",
        {"title": "页面不存在", "message": "您访问的页面不存在或您无权查看。"},
        status=404,
    )


def server_error(request):
    return render(
        request,
        "portal/error.html",
        {"title": "系统繁忙", "message": "系统暂时无法处理您的请求，请稍后再试。"},
        status=500,
    )
