"""The error shape of the contract and the handlers that produce it.

Every error answer is ``{"code": ..., "message": <中文>, "field": <optional>}``. Route code raises
:class:`ApiError`; FastAPI's validation errors become 422 with a Chinese message naming the field.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from kiosk.logsetup import failure_summary

log = logging.getLogger(__name__)

# Every pooled database connection stayed busy for the pool's whole timeout: the platform is
# overloaded, not broken. The kiosk is told when to come back (it honours Retry-After).
OVERLOAD_RETRY_AFTER_SECONDS = 5


class ErrorBody(BaseModel):
    """Body of every 4xx/5xx answer."""

    code: str
    message: str
    field: str | None = None


class ApiError(Exception):
    """Raise from a route to answer *status* with the contract's error body."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None):
        super().__init__(f"{status} {code}")
        self.status = status
        self.code = code
        self.message = message
        self.field = field


def not_found(message: str = "未找到相关信息", code: str = "not_found") -> ApiError:
    return ApiError(404, code, message)


def error_response(
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorBody(code=code, message=message, field=field).model_dump(exclude_none=True)
    return JSONResponse(body, status_code=status, headers=headers)


def overload_response(exc: BaseException) -> JSONResponse | None:
    """503 ``server_busy`` with Retry-After when *exc* says the platform is overloaded (no
    database connection free within the pool's timeout); None for any other error."""
    if not isinstance(exc, PoolTimeoutError):
        return None
    log.warning("overloaded: no database connection free within the pool timeout")
    return error_response(
        503,
        "server_busy",
        "服务繁忙，请稍后再试",
        headers={"Retry-After": str(OVERLOAD_RETRY_AFTER_SECONDS)},
    )


# Field names as a resident or operator reads them; unknown fields are shown as sent.
FIELD_LABELS = {
    "id_number": "身份证号码",
    "name": "姓名",
    "phone": "联系电话",
    "contact_phone": "联系电话",
    "occupation": "工种",
    "occupations": "期望工种",
    "town": "乡镇",
    "towns": "期望乡镇",
    "salary_min": "最低薪资",
    "salary_max": "最高薪资",
    "page": "页码",
    "page_size": "每页条数",
    "qr": "二维码",
    "item_no": "事项序号",
    "description": "问题描述",
    "category": "问题类别",
    "screen": "界面",
    "work_date": "用工日期",
    "workers_needed": "招聘人数",
    "pay_per_day": "日工资",
    "employer_name": "用工单位（人）名称",
    "village": "村（社区）",
    "days": "用工天数",
    "kind": "类型",
    "q": "关键词",
    "posted_since": "发布日期",
    "lost_job_on": "失业日期",
    "started_on": "开始灵活就业日期",
    "employment_type": "灵活就业类型",
    "separation_reason": "离职原因",
    "last_employer": "原工作单位",
    "seeking_work": "求职要求",
    "certificate_kind": "证书类型",
    "certificate_no": "证书编号",
    "certificate_level": "证书等级",
    "issued_on": "发证日期",
    "skills": "技能特长",
    "available_from": "可到岗日期",
    "note": "备注",
    "fault_key": "故障代码",
    "suggestion": "建议解决办法",
    "resolution": "处理结果",
    "state": "状态",
    "version": "软件版本",
    "service_point": "服务点",
    "region_code": "行政区划代码",
    "capabilities": "设备能力",
    "devices": "设备状态",
    "paper_level": "纸量",
    "outbox_depth": "待发队列长度",
    "kiosk": "设备编号",
    "include_past": "是否包含已结束",
    "include_expired": "是否包含已过期",
}

_TYPE_MESSAGES = {
    "missing": "不能为空",
    "string_too_short": "太短",
    "string_too_long": "太长",
    "string_pattern_mismatch": "格式不正确",
    "literal_error": "不在可选范围内",
    "enum": "不在可选范围内",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "greater_than_equal": "数值太小",
    "greater_than": "数值太小",
    "less_than_equal": "数值太大",
    "less_than": "数值太大",
    "date_parsing": "应为日期（年-月-日）",
    "date_from_datetime_parsing": "应为日期（年-月-日）",
    "date_type": "应为日期（年-月-日）",
    "bool_parsing": "应为是或否",
    "json_invalid": "不是有效的 JSON",
    "model_attributes_type": "格式不正确",
    "dict_type": "格式不正确",
    "list_type": "应为列表",
    "too_short": "至少需要一项",
    "too_long": "项目太多",
    "extra_forbidden": "是不认识的字段",
}


def _field_of(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts)


def validation_message(error: dict[str, Any]) -> tuple[str, str]:
    """(field, Chinese message) for one pydantic error."""
    if error.get("type") == "json_invalid":
        return "", "请求内容不是有效的 JSON"
    field = _field_of(tuple(error.get("loc", ())))
    top = field.split(".")[0] if field else ""
    label = FIELD_LABELS.get(top, field or "请求内容")
    kind = error.get("type", "")
    if kind == "value_error":
        # Our own validators put a Chinese sentence in the ValueError.
        text = str(error.get("ctx", {}).get("error", error.get("msg", "")))
        return field, f"{label}：{text}"
    return field, f"{label}{_TYPE_MESSAGES.get(kind, '格式不正确')}"


def install_error_handlers(app: FastAPI) -> None:
    """Route every error through the contract's shape."""

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError):
        return error_response(exc.status, exc.code, exc.message, exc.field)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError):
        errors = exc.errors()
        field, message = validation_message(errors[0]) if errors else ("", "请求内容格式不正确")
        return error_response(422, "invalid_field", message, field or None)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException):
        messages = {404: "没有这个接口", 405: "不支持该请求方法", 413: "请求内容太大"}
        code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
        return error_response(
            exc.status_code,
            code.get(exc.status_code, "http_error"),
            messages.get(exc.status_code, "请求无法处理"),
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        if (busy := overload_response(exc)) is not None:
            return busy
        # Its text may quote a resident's data: type and place only (the signing middleware
        # answers route errors this way before they get here).
        log.error(
            "unhandled server error on %s %s: %s",
            request.method,
            request.url.path,
            failure_summary(exc),
        )
        return error_response(500, "server_error", "服务器内部错误，请稍后再试")
