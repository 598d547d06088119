"""Matching with reasons (items 2, 5, 8): why a posting fits a seeker, or a seeker a demand.

Scores are small integers (occupation 3, place 2, pay 1, recency 1) so the order is explainable;
every point comes with a Chinese reason the kiosk shows as is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kiosk_backend.models import JobPosting, JobSeeker, OddJobDemand, Person

MAX_MATCHES = 20
CANDIDATE_LIMIT = 500


@dataclass(frozen=True)
class PostingFit:
    posting: JobPosting
    score: int
    reasons: list[str]


@dataclass(frozen=True)
class SeekerFit:
    seeker: JobSeeker
    person: Person
    score: int
    reasons: list[str]


def _pay_reason(
    low: int | None, high: int | None, pay_min: int, pay_max: int, unit: str
) -> tuple[int, str | None]:
    label = "元/月" if unit == "month" else "元/天"
    if low is None and high is None:
        return 0, None
    if low is not None and pay_max < low:
        return -1, None
    if high is not None and pay_min > high:
        return 1, f"薪资高于期望：{pay_min}-{pay_max}{label}"
    return 1, "薪资在期望范围内"


def fit_posting(seeker: JobSeeker, posting: JobPosting, today: dt.date) -> PostingFit | None:
    """How *posting* fits *seeker* (None: it does not — wrong trade or pays below the minimum)."""
    occupation = next(
        (o for o in seeker.occupations if o == posting.occupation or o in posting.title), None
    )
    if occupation is None:
        return None
    score, reasons = 3, [f"工种相符：{occupation}"]
    if not seeker.towns:
        reasons.append(f"地点：{posting.town}（您未限定地点）")
    elif posting.town in seeker.towns:
        score += 2
        reasons.append(f"地点：{posting.town}")
    else:
        return None
    points, reason = _pay_reason(
        seeker.salary_min,
        seeker.salary_max,
        posting.salary_min,
        posting.salary_max,
        posting.salary_unit,
    )
    if points < 0:
        return None
    score += points
    if reason:
        reasons.append(reason)
    if (today - posting.posted_on).days <= 7:
        score += 1
        reasons.append("近7天新发布")
    return PostingFit(posting, score, reasons)


def match_postings(session: Session, seeker: JobSeeker, today: dt.date) -> list[PostingFit]:
    """The best open postings of the seeker's kind, best first (at most MAX_MATCHES)."""
    wanted = list(seeker.occupations)
    conditions = [JobPosting.occupation.in_(wanted)] + [
        JobPosting.title.contains(o, autoescape=True) for o in wanted
    ]
    query = (
        select(JobPosting)
        .where(JobPosting.kind == seeker.kind, JobPosting.valid_until >= today, or_(*conditions))
        .order_by(JobPosting.posted_on.desc(), JobPosting.id.desc())
        .limit(CANDIDATE_LIMIT)
    )
    if seeker.towns:
        query = query.where(JobPosting.town.in_(list(seeker.towns)))
    fits = [f for p in session.scalars(query) if (f := fit_posting(seeker, p, today))]
    fits.sort(key=lambda f: (-f.score, -f.posting.posted_on.toordinal(), -f.posting.id))
    return fits[:MAX_MATCHES]


def fit_seeker(
    demand: OddJobDemand, seeker: JobSeeker, person: Person, today: dt.date
) -> SeekerFit | None:
    """How an odd-job *seeker* fits an employer's *demand* (None: not at all)."""
    occupation = next(
        (
            o
            for o in seeker.occupations
            if o == demand.occupation or demand.occupation in o or o in demand.occupation
        ),
        None,
    )
    if occupation is None:
        return None
    score, reasons = 3, [f"工种相符：{occupation}"]
    if not seeker.towns:
        reasons.append("地点：不限")
    elif demand.town in seeker.towns:
        score += 2
        reasons.append(f"地点：{demand.town}")
    else:
        return None
    if person.town == demand.town:
        score += 1
        reasons.append(f"居住在{demand.town}")
    if seeker.salary_min is not None and demand.pay_per_day < seeker.salary_min:
        return None
    if seeker.salary_min is not None or seeker.salary_max is not None:
        score += 1
        reasons.append("日工资在期望范围内")
    if seeker.available_from is None or seeker.available_from <= demand.work_date:
        reasons.append("用工日期可到岗")
    else:
        return None
    return SeekerFit(seeker, person, score, reasons)


def match_seekers(session: Session, demand: OddJobDemand, today: dt.date) -> list[SeekerFit]:
    """Active odd-job seekers that fit *demand*, best first (at most MAX_MATCHES)."""
    rows = session.execute(
        select(JobSeeker, Person)
        .join(Person, Person.id == JobSeeker.person_id)
        .where(
            JobSeeker.kind == "odd",
            JobSeeker.active.is_(True),
            JobSeeker.person_id != demand.person_id,
        )
    ).all()
    fits = [f for s, p in rows if (f := fit_seeker(demand, s, p, today))]
    fits.sort(key=lambda f: (-f.score, -f.seeker.registered_at.timestamp(), f.seeker.id))
    return fits[:MAX_MATCHES]
