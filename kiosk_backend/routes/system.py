"""Unsigned health probe."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from pydantic import BaseModel

router = APIRouter(tags=["system"])


class Health(BaseModel):
    status: str
    server_time: dt.datetime
    api_version: str


@router.get("/health", response_model=Health, summary="健康检查（无需签名）")
def health() -> Health:
    from kiosk_backend.app import API_VERSION

    return Health(status="ok", server_time=dt.datetime.now(dt.UTC), api_version=API_VERSION)
