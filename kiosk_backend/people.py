"""Looking up persons and building the facts the rules need."""

from __future__ import annotations

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from kiosk_backend.errors import ApiError
from kiosk_backend.identity import birth_date_of
from kiosk_backend.models import Contribution, Person
from kiosk_backend.rules import PersonFacts

UNKNOWN_PERSON_MESSAGE = "未查询到该身份证号码的人员信息，请到服务点柜面办理"


def find_person(session: Session, id_number: str) -> Person | None:
    return session.scalar(select(Person).where(Person.id_number == id_number))


def require_person(session: Session, id_number: str) -> Person:
    """The person with *id_number*, else ApiError 404 ``person_not_found``."""
    person = find_person(session, id_number)
    if person is None:
        raise ApiError(404, "person_not_found", UNKNOWN_PERSON_MESSAGE, "id_number")
    return person


def person_for_registration(session: Session, id_number: str, name: str | None) -> Person:
    """The person, created from the ID card's data (number + name) when not yet known."""
    person = find_person(session, id_number)
    if person is not None:
        return person
    if not name:
        raise ApiError(
            404,
            "person_not_found",
            UNKNOWN_PERSON_MESSAGE + "（或提供姓名以新建登记）",
            "id_number",
        )
    gender = "male" if int(id_number[16]) % 2 == 1 else "female"
    person = Person(
        id_number=id_number,
        name=name,
        gender=gender,
        birth_date=birth_date_of(id_number),
        town="",
        village="",
    )
    session.add(person)
    session.flush()
    return person


def resident_contribution_years(session: Session, person_id: int) -> int:
    return (
        session.scalar(
            select(func.count(distinct(Contribution.period))).where(
                Contribution.person_id == person_id,
                Contribution.scheme == "resident_pension",
                Contribution.credited.is_(True),
            )
        )
        or 0
    )


def facts_of(session: Session, person: Person) -> PersonFacts:
    return PersonFacts(
        birth_date=person.birth_date,
        sex=person.gender,
        job_category=person.job_category or "",
        is_student=person.is_student,
        employment_status=person.employment_status,
        enterprise_pension_status=person.enterprise_pension_status,
        receiving_enterprise_pension=person.receiving_enterprise_pension,
        resident_basic_enrolled=person.resident_basic_enrolled,
        resident_supplementary_enrolled=person.resident_supplementary_enrolled,
        receiving_resident_basic=person.receiving_resident_basic,
        receiving_resident_supplementary=person.receiving_resident_supplementary,
        resident_contribution_years=resident_contribution_years(session, person.id),
        ui_insured_months=person.ui_insured_months,
        separation_reason=person.separation_reason,
        registered_unemployed=person.registered_unemployed,
        seeking_work=person.seeking_work,
        receiving_ui_benefit=person.receiving_ui_benefit,
    )
