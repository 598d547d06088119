"""Finishing touches on the generated OpenAPI document: auth, idempotency header, error bodies."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

from kiosk_backend.errors import ErrorBody
from kiosk_backend.identity_sessions import TOKEN_HEADER, person_scoped_operations
from kiosk_backend.security import UNSIGNED_PATHS

ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
ERROR_DESCRIPTIONS = {
    "400": "缺少或错误的 Idempotency-Key",
    "401": "签名缺失、错误、过期或重放",
    "403": "签名有效，但该身份（服务点设备 / 责任人）无权使用此接口",
    "404": "未找到（人员、岗位、工单等），或二维码无法识别",
    "409": "Idempotency-Key 已用于不同内容，或与现有数据冲突",
    "413": "请求内容太大",
    "422": "字段校验失败（message 指明字段）",
    "429": "次数或人数超过限制，请稍后再试",
    "503": "同一请求仍在处理中，或服务繁忙（Retry-After：秒数）",
}
SIGNING_SCHEMES = {
    "KioskId": {"type": "apiKey", "in": "header", "name": "X-Kiosk-Id"},
    "KioskTimestamp": {"type": "apiKey", "in": "header", "name": "X-Kiosk-Timestamp"},
    "KioskNonce": {"type": "apiKey", "in": "header", "name": "X-Kiosk-Nonce"},
    "KioskSignature": {"type": "apiKey", "in": "header", "name": "X-Kiosk-Signature"},
}
IDEMPOTENCY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "description": "UUID4 chosen by the kiosk per submission; a repeat returns the first answer.",
    "schema": {"type": "string", "format": "uuid"},
}


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI 3 document of *app* with the contract's conventions written in."""
    doc = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    components = doc.setdefault("components", {})
    components.setdefault("securitySchemes", {}).update(SIGNING_SCHEMES)
    schemas = components.setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    # Every error answer refers to ErrorBody, which no route returns: add it by hand.
    _, error_defs = models_json_schema(
        [(ErrorBody, "validation")], ref_template="#/components/schemas/{model}"
    )
    schemas.update(error_defs.get("$defs", {}))
    person_scoped = person_scoped_operations(app.routes)
    for path, operations in doc.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            if (method, path) in person_scoped:
                _require_identity_token(operation)
            if path in UNSIGNED_PATHS:
                operation["security"] = []
            else:
                operation["security"] = [{name: [] for name in SIGNING_SCHEMES}]
                responses["401"] = _error("401")
                responses.setdefault("403", _error("403"))
                responses.setdefault("404", _error("404"))
            if method == "post" and path not in UNSIGNED_PATHS:
                operation.setdefault("parameters", []).insert(0, dict(IDEMPOTENCY_PARAMETER))
                for status in ("400", "409", "413", "503"):
                    responses.setdefault(status, _error(status))
            if "422" in responses or operation.get("parameters") or "requestBody" in operation:
                responses["422"] = _error("422")
            for status, response in responses.items():
                if status.startswith(("4", "5")) and "content" not in response:
                    response["content"] = {"application/json": {"schema": ERROR_REF}}
    return doc


def _require_identity_token(operation: dict[str, Any]) -> None:
    """The identity token is required by contract; the server answers 403 without it."""
    for parameter in operation.get("parameters", []):
        if parameter.get("name") == TOKEN_HEADER:
            parameter["required"] = True
            parameter["schema"] = {"type": "string", "title": TOKEN_HEADER}
    operation.setdefault("responses", {})["403"] = {
        "description": "未确认本人身份（identity_required）：缺少身份令牌，或令牌已过期、已撤销、"
        "不是本机签发，或不覆盖请求中的人（本人、代办人）",
        "content": {"application/json": {"schema": ERROR_REF}},
    }


def _error(status: str) -> dict[str, Any]:
    return {
        "description": ERROR_DESCRIPTIONS[status],
        "content": {"application/json": {"schema": ERROR_REF}},
    }
