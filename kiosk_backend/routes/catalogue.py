"""The service catalogue and the county's places."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from kiosk_backend import catalogue as items
from kiosk_backend.seed.places import COUNTY, REGION_CODE, TOWNS

router = APIRouter(tags=["catalogue"])


class CatalogueItem(BaseModel):
    no: int
    category: str
    name: str
    content: str
    channels: list[str]
    kiosk_runs: bool
    targets: str
    conditions: str
    materials: list[str]
    materials_rule: str
    time_limit_days: int
    time_limit_text: str
    basis: list[str] = Field(description="办事依据")
    procedure: list[str] = Field(description="办事程序")


class Catalogue(BaseModel):
    items: list[CatalogueItem]


class Town(BaseModel):
    name: str
    villages: list[str]


class Places(BaseModel):
    county: str
    region_code: str
    towns: list[Town]


@router.get("/catalogue", response_model=Catalogue, summary="服务事项清单（40项）")
def catalogue() -> Catalogue:
    return Catalogue(
        items=[
            CatalogueItem(
                no=i.no,
                category=i.category,
                name=i.name,
                content=i.content,
                channels=list(i.channels),
                kiosk_runs=i.kiosk_runs,
                targets=i.targets,
                conditions=i.conditions,
                materials=list(i.materials),
                materials_rule=i.materials_rule,
                time_limit_days=i.time_limit_days,
                time_limit_text=i.time_limit_text,
                basis=list(i.basis),
                procedure=list(i.procedure),
            )
            for i in items.platform_catalogue()
        ]
    )


@router.get("/places", response_model=Places, summary="乡镇和村（社区）")
def places() -> Places:
    return Places(
        county=COUNTY,
        region_code=REGION_CODE,
        towns=[Town(name=name, villages=list(villages)) for name, villages in TOWNS.items()],
    )
