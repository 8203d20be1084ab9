from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from gonghui.api.applications import router as applications_router
from gonghui.api.auth import BackOfficeSession, BearerToken
from gonghui.api.imports import router as imports_router
from gonghui.api.members import router as members_router
from gonghui.api.orgs import router as orgs_router
from gonghui.api.public import router as public_router
from gonghui.api.quality import router as quality_router
from gonghui.api.stations import router as stations_router
from gonghui.api.stats import router as stats_router
from gonghui.api.transfers import router as transfers_router
from gonghui.common.errors import DomainError, ValidationFailed
from gonghui.common.validators import UNREADABLE_TEXT, unreadable_text_at


def _refuse_unreadable(data):
    where = unreadable_text_at(data)
    if where is not None:
        raise ValidationFailed({where or "request": UNREADABLE_TEXT})
    return data


class TextParser(Parser):
    """Request text that can be stored: a lone surrogate ("\\ud800", which only JSON can carry; Django decodes query
    strings and forms with replacement characters) or a NUL in a JSON body, a query string or a form is refused here,
    before any schema, service, blind index or database sees it."""

    def parse_body(self, request):
        return _refuse_unreadable(super().parse_body(request))

    def parse_querydict(self, data, list_fields, request):
        return _refuse_unreadable(super().parse_querydict(data, list_fields, request))


api = NinjaAPI(
    title="数字工会平台 API",
    version="1.0.0",
    description="组织、会员与服务数据接口。会员接口只接受后台登录会话；令牌可核验电子会员卡。"
    "外部系统使用 Bearer 令牌（manage.py create_api_token），"
    "令牌只能访问其所属组织及下级组织的数据；范围以外的对象与不存在的对象一样返回 404。",
    urls_namespace="api-v1",
    parser=TextParser(),
    auth=[BearerToken(), BackOfficeSession(csrf=True)],
    openapi_url="/openapi.json",
    docs_url="/docs",
    # Swagger UI would ask validator.swagger.io to check the spec (an image from outside the site): never.
    docs=Swagger(settings={"validatorUrl": None}),
)
api.add_router("/", orgs_router)
api.add_router("/", imports_router)  # before members: /members/imports is not a membership id
api.add_router("/", members_router)  # the member routers in the order of the OpenAPI document's paths
api.add_router("/", applications_router)
api.add_router("/", transfers_router)
api.add_router("/", quality_router)
api.add_router("/", public_router)
api.add_router("/", stats_router)
api.add_router("/", stations_router)


@api.exception_handler(DomainError)
def domain_error(request, exc: DomainError):
    body: dict[str, object] = {"code": exc.code, "message": exc.message}
    if isinstance(exc, ValidationFailed):
        body["errors"] = exc.errors
    return api.create_response(request, body, status=exc.status)


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc):
    return api.create_response(
        request, {"code": "unauthenticated", "message": "未认证：请提供有效的令牌或登录"}, status=401
    )


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    # Ninja wraps whatever the body parser raises in a 400 "Cannot parse request body": give our refusal, or a
    # Chinese one, instead.
    if isinstance(exc.__cause__, DomainError):
        return domain_error(request, exc.__cause__)
    if exc.status_code == 400 and exc.__cause__ is not None:
        return api.create_response(
            request, {"code": "invalid_request", "message": "请求内容不是有效的 JSON"}, status=400
        )
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


def _problem(err: dict) -> str:
    """A Chinese reason for one failed parameter: its bound when a number is out of range."""
    bounds = err.get("ctx") or {}
    if err.get("type") == "less_than_equal":
        return f"不能大于 {bounds['le']}"
    if err.get("type") == "greater_than_equal":
        return f"不能小于 {bounds['ge']}"
    return "参数缺失或格式不正确"


@api.exception_handler(ValidationError)
def invalid_request(request, exc: ValidationError):
    errors = {}
    for err in exc.errors:
        loc = ".".join(str(p) for p in err.get("loc", [])[1:]) or "request"
        errors[loc] = _problem(err)
    return api.create_response(
        request, {"code": "invalid_request", "message": "请求参数不正确", "errors": errors}, status=422
    )
