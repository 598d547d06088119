"""Every eligibility rule that goes beyond the seed's 附件2, in one place, with where it comes from.

附件2 states some conditions itself (28 年满16周岁、不含在校学生; 34 年满60周岁、累计缴费满15年;
23 缴费满一年、非因本人意愿中断就业、已办理失业登记、有求职要求 …): those are
``SEED_CONDITIONS``. Anything else the kiosk (:mod:`kiosk.domain.eligibility`) or the reference
platform (``kiosk_backend.rules``) checks is listed in ``BEYOND_SEED`` with the policy document
it comes from — cited only where we are sure of the document — or marked as our own guard
against filing the same thing twice. A test keeps both rule sets and this list in step.

``kind``:
- ``policy``: a national rule the seed leaves unsaid; ``source`` names the document.
- ``proxy``: how a condition of the seed is decided from the records a platform keeps.
- ``guard``: our own: do not file what is already filed or already being received.

Pure data; thread-safe.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kiosk.domain import retirement

LABOUR_LAW = "《中华人民共和国劳动法》第十五条（禁止招用未满十六周岁的未成年人）"
EMPLOYMENT_SERVICE_RULES = "《就业服务与就业管理规定》（劳动和社会保障部令第28号）"
SKILL_SUBSIDY_NOTICE = (
    "人力资源社会保障部、财政部《关于失业保险支持参保职工提升职业技能有关问题的通知》"
    "（人社部发〔2017〕40号）"
)

# Condition keys whose requirement is written in 附件2 itself (服务内容 / 服务对象 / 办理条件).
SEED_CONDITIONS = frozenset(
    {
        "not_student",  # 28: 不含在校学生
        "not_resident_enrolled",  # 28: 未参加城乡居民基本养老保险
        "no_other_basic",  # 28: 和其他基本养老保险
        "resident_enrolled",  # 29, 34: 参加我省城乡居民基本养老保险
        "under_65",  # 29: 未满65周岁
        "age_60",  # 34: 年满60周岁 (the resident pension's age, retirement.Scheme.RESIDENT)
        "years_15",  # 34: 累计缴费满15年
        "no_other_pension",  # 34: 未领取其他基本养老保险待遇
        "supplementary_enrolled",  # 35: 参加我省城乡居民补充养老保险
        "age_65",  # 35: 年满65周岁
        "receiving_basic",  # 35: 已享受我省城乡居民基本养老保险待遇
        "insured_1y",  # 23: 缴费满一年
        "involuntary",  # 23: 非因本人意愿中断就业
        "registered",  # 23: 已办理失业登记
        "seeking",  # 23: 有求职要求
        "insured_or_ui",  # 22: 企业在职参保职工或领取失业保险金期间的失业人员 (see the proxy)
    }
)


@dataclass(frozen=True)
class LocalRule:
    """One rule beyond the seed: condition ``key`` of ``items``, what it requires, why."""

    key: str
    items: tuple[int, ...]
    text: str
    kind: str  # policy / proxy / guard
    source: str


BEYOND_SEED: tuple[LocalRule, ...] = (
    LocalRule(
        "age_16",
        (1, 4, 7, 10, 11),
        "年满16周岁（法定劳动年龄的下限）",
        "policy",
        LABOUR_LAW,
    ),
    LocalRule(
        "under_retirement_age",
        (10, 11, 23),
        "未达到法定退休年龄（按性别、岗位和出生年月计算，2025年起渐进式延迟）",
        "policy",
        f"{retirement.DECISION}；失业登记面向法定劳动年龄内的人员：{EMPLOYMENT_SERVICE_RULES}",
    ),
    LocalRule(
        "certificate_12m",
        (22,),
        "在职业资格证书或职业技能等级证书核发之日起12个月内申领",
        "policy",
        SKILL_SUBSIDY_NOTICE,
    ),
    LocalRule(
        "insured_or_ui",
        (22,),
        "“企业在职参保职工”按平台记录判断：在职（就业状态为在职）且参加失业保险"
        "（技能提升补贴从失业保险基金中列支，面向失业保险参保职工）；"
        "或正在领取失业保险金",
        "proxy",
        SKILL_SUBSIDY_NOTICE,
    ),
    LocalRule(
        "not_receiving",
        (23, 34, 35),
        "尚未领取该项待遇（已在领取的不再重复申领）",
        "guard",
        "",
    ),
    LocalRule(
        "not_supplementary",
        (29,),
        "尚未参加城乡居民补充养老保险（已参加的不再重复登记）",
        "guard",
        "",
    ),
    LocalRule(
        "one_claim_per_certificate",
        (22,),
        "同一证书只申领一次（被驳回的可在更正后再次申领）",
        "guard",
        "",
    ),
)


def rule(key: str) -> LocalRule:
    """The rule of condition *key*; KeyError when it is no rule beyond the seed."""
    for local in BEYOND_SEED:
        if local.key == key:
            return local
    raise KeyError(key)


CERTIFICATE_MONTHS = 12


def certificate_in_time(issued_on: dt.date, today: dt.date) -> bool:
    """Rule ``certificate_12m``: a certificate issued on *issued_on* may be claimed on *today*
    (within 12 calendar months of its issue, the anniversary itself included)."""
    return issued_on <= today <= retirement.add_months(issued_on, CERTIFICATE_MONTHS)
