"""Errors as RFC 9457 problem+json.

Every error the app produces is an `AppError` subclass carrying a stable `type`, a
status and a title in Vietnamese and English; one set of handlers (`install`) renders
them, and also renders FastAPI's validation errors, Starlette's 404/405 and any
unexpected exception (a 500 that says nothing about internals). Messages never carry
personal data: `detail` is written by the code, never echoed from input.

`detail` and the field messages are written in English and translated here, when
rendered, from the gettext catalogs (`app/i18n.py`): Vietnamese unless the caller
prefers English.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.i18n import field_path, pydantic_errors, translate

log = logging.getLogger("vcm.errors")

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://vcm.gov.vn/problems/"


class AppError(Exception):
    """Base of every error the service answers with.

    `keep_work` marks errors whose transaction must still commit: a failed login is
    counted and a denied attempt is recorded even though the caller gets an error.
    """

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title_en: ClassVar[str] = "Internal server error"
    title_vi: ClassVar[str] = "Lỗi máy chủ"
    keep_work: ClassVar[bool] = False

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or self.title_en)
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    @property
    def type(self) -> str:
        return TYPE_BASE + self.slug


class BadRequest(AppError):
    status, slug = 400, "bad-request"
    title_en, title_vi = "Bad request", "Yêu cầu không hợp lệ"


class Unauthorized(AppError):
    status, slug = 401, "unauthorized"
    title_en, title_vi = "Authentication required", "Cần xác thực"

    def __init__(self, detail: str | None = None, *, error: str = "invalid_token") -> None:
        super().__init__(
            detail, headers={"WWW-Authenticate": f'Bearer realm="vcm", error="{error}"'}
        )


class InvalidCredentials(AppError):
    """Unknown user and wrong password answer exactly this, in similar time."""

    status, slug = 401, "invalid-credentials"
    title_en, title_vi = "Invalid username or password", "Sai tên đăng nhập hoặc mật khẩu"
    keep_work = True

    def __init__(self) -> None:
        super().__init__(headers={"WWW-Authenticate": 'Bearer realm="vcm"'})


class MfaRequired(AppError):
    """The password was right but a second factor is needed: no `otp`, or one that is
    wrong or already used. Commits, so a wrong code counts as a failed sign-in."""

    status, slug = 401, "mfa-required"
    title_en, title_vi = "A one-time code is required", "Cần mã xác thực một lần"
    keep_work = True

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="vcm"'})


class SessionRestricted(AppError):
    """A session limited to one step (changing the password, enrolling a second
    factor) called anything else."""

    status, slug = 403, "session-restricted"
    title_en, title_vi = "Finish signing in first", "Cần hoàn tất bước đăng nhập"
    keep_work = True

    def __init__(self, slug: str, detail: str) -> None:
        super().__init__(detail)
        self._slug = slug

    @property
    def type(self) -> str:
        return TYPE_BASE + self._slug


class InvalidGrant(AppError):
    """A refresh token that is unknown, expired, revoked or reused (RFC 6749 5.2)."""

    status, slug = 400, "invalid-grant"
    title_en, title_vi = "Invalid or expired grant", "Mã cấp quyền không hợp lệ hoặc đã hết hạn"
    keep_work = True


class Forbidden(AppError):
    status, slug = 403, "forbidden"
    title_en, title_vi = "Not allowed", "Không được phép"


class NotFound(AppError):
    """Also the answer for a resource the caller may not see: 404, never 403."""

    status, slug = 404, "not-found"
    title_en, title_vi = "Not found", "Không tìm thấy"


class DeniedNotFound(NotFound):
    """404 for an existing record out of the caller's reach; commits, so the audit row
    recording the denied attempt is kept."""

    keep_work = True


class DeniedForbidden(Forbidden):
    """403 for a missing permission; commits, so the denial's audit row is kept."""

    keep_work = True


class MethodNotAllowed(AppError):
    status, slug = 405, "method-not-allowed"
    title_en, title_vi = "Method not allowed", "Phương thức không được hỗ trợ"


class Conflict(AppError):
    status, slug = 409, "conflict"
    title_en, title_vi = "Conflict with the current state", "Xung đột với trạng thái hiện tại"


class Gone(AppError):
    """The record existed but its content was destroyed on purpose (an erased person)."""

    status, slug = 410, "gone"
    title_en, title_vi = "No longer available", "Không còn tồn tại"


class PreconditionFailed(AppError):
    status, slug = 412, "precondition-failed"
    title_en, title_vi = (
        "The resource changed since it was read",
        "Dữ liệu đã thay đổi kể từ lần đọc trước",
    )


class PayloadTooLarge(AppError):
    status, slug = 413, "payload-too-large"
    title_en, title_vi = "Request body too large", "Dữ liệu gửi lên quá lớn"


class UnsupportedMediaType(AppError):
    status, slug = 415, "unsupported-media-type"
    title_en, title_vi = "Unsupported media type", "Định dạng dữ liệu không được hỗ trợ"


class ValidationFailed(AppError):
    status, slug = 422, "validation-error"
    title_en, title_vi = "Invalid input", "Dữ liệu không hợp lệ"

    def __init__(self, errors: Sequence[Mapping[str, str]], detail: str | None = None) -> None:
        super().__init__(detail, extra={"errors": [dict(e) for e in errors]})


class PreconditionRequired(AppError):
    status, slug = 428, "precondition-required"
    title_en, title_vi = "If-Match header required", "Cần tiêu đề If-Match"


class TooManyRequests(AppError):
    status, slug = 429, "too-many-requests"
    title_en, title_vi = "Too many attempts", "Quá nhiều lần thử"
    keep_work = True

    def __init__(self, retry_after_seconds: int, detail: str | None = None) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after_seconds))})


class DataIntegrityFailure(AppError):
    """Stored ciphertext failed authentication: altered, moved to another row, column or
    person, or sealed under another key. The service records the failure in the audit
    trail before raising, so the transaction commits (`keep_work`) and the record
    survives the failed request."""

    status, slug = 500, "integrity-error"
    title_en, title_vi = (
        "Stored data failed its integrity check",
        "Dữ liệu lưu trữ không vượt qua kiểm tra toàn vẹn",
    )
    keep_work = True


class ServiceUnavailable(AppError):
    status, slug = 503, "service-unavailable"
    title_en, title_vi = "Service temporarily unavailable", "Dịch vụ tạm thời không khả dụng"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers={"Retry-After": "5"})


# SQLSTATEs meaning "the database is not there right now", not "the request is wrong":
# class 08 (connection exception), 57P (shutting down, starting up, terminated by the
# administrator) and 53300 (too many connections). SQLAlchemy maps some of them to a
# plain DBAPIError, not OperationalError.
_UNAVAILABLE_SQLSTATES = ("08", "57P", "53300")


def database_unavailable(exc: BaseException) -> bool:
    """True for an error that means the database cannot be reached or is restarting:
    the answer is 503 with Retry-After, never 500."""
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeout):
        return True  # PoolTimeout: no pooled connection came free within pool_timeout
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        state = str(getattr(exc.orig, "sqlstate", None) or "")
        if state.startswith(_UNAVAILABLE_SQLSTATES):
            return True
        return isinstance(exc.orig and exc.orig.__cause__, OSError | TimeoutError)
    return isinstance(exc, OSError | ConnectionError | TimeoutError)


def prefers_english(accept_language: str | None) -> bool:
    """Vietnamese unless the client's most preferred language we know is English."""
    if not accept_language:
        return False
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        lang, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = lang.strip().lower().split("-")[0]
        if primary in ("en", "vi") and quality > 0:
            ranked.append((-quality, position, primary))
    return bool(ranked) and min(ranked)[2] == "en"


def problem_response(
    request: Request,
    *,
    status: int,
    type_: str,
    title_en: str,
    title_vi: str,
    detail: str | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    english = prefers_english(request.headers.get("accept-language"))
    language = "en" if english else "vi"
    body: dict[str, Any] = {
        "type": type_,
        "title": title_en if english else title_vi,
        "status": status,
        "detail": translate(detail, language) if detail else (title_en if english else title_vi),
        "instance": request.url.path,
    }
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    body.update(extra or {})
    if isinstance(body.get("errors"), list):
        body["errors"] = [
            {**e, "message": translate(e["message"], language)}
            if isinstance(e, dict) and isinstance(e.get("message"), str)
            else e
            for e in body["errors"]
        ]
    return JSONResponse(
        body,
        status_code=status,
        media_type=PROBLEM_JSON,
        headers={"Content-Language": "en" if english else "vi", **(headers or {})},
    )


def render(request: Request, exc: AppError) -> JSONResponse:
    return problem_response(
        request,
        status=exc.status,
        type_=exc.type,
        title_en=exc.title_en,
        title_vi=exc.title_vi,
        detail=exc.detail,
        headers=exc.headers,
        extra=exc.extra,
    )


def validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    """Field and message only, every invalid field at once: pydantic's `input` would
    echo personal data back, and its English text is replaced by our own messages."""
    found: list[dict[str, str]] = []
    for error in exc.errors():
        for loc, message in pydantic_errors(error):
            entry = {"field": field_path(loc), "message": message}
            if entry not in found:
                found.append(entry)
    return found


_STATUS_ERRORS: dict[int, type[AppError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
}


def install(app: FastAPI) -> None:
    async def on_app_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AppError)
        return render(request, exc)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return render(request, ValidationFailed(validation_errors(exc)))

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        known = _STATUS_ERRORS.get(exc.status_code)
        return problem_response(
            request,
            status=exc.status_code,
            type_=TYPE_BASE + (known.slug if known else f"http-{exc.status_code}"),
            title_en=known.title_en if known else "Error",
            title_vi=known.title_vi if known else "Lỗi",
            headers=exc.headers,
        )

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The traceback goes to the log with the request id; the client learns nothing
        # about internals. Exception messages can carry values, so log the type only
        # at error level and the traceback at debug for operators who opt in.
        log.error("unhandled %s", type(exc).__name__, exc_info=exc)
        return render(request, AppError())

    async def on_database_error(request: Request, exc: Exception) -> JSONResponse:
        # A database error outside the request's session dependency (which maps these
        # itself): an outage is still 503 with Retry-After; anything else goes on to
        # the 500 handler.
        if database_unavailable(exc):
            log.warning("database unavailable: %s", type(exc).__name__)
            return render(request, ServiceUnavailable())
        raise exc

    app.add_exception_handler(AppError, on_app_error)
    app.add_exception_handler(DBAPIError, on_database_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
