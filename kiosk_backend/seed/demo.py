"""Deterministic, fictional demo data for 沁源县 (same input → same rows).

Each section draws from its own ``random.Random`` seeded with a constant and the section's
name (``Random(f"{SEED}:{section}")``), so adding a row to one section does not change the rows
of any other; an anchor date (``today``) places postings, job fairs and payment months. Names,
employers and ID numbers are fictional; ID numbers are valid (region 140431, GB 11643 check
character). Records whose sums the tests check by hand (residents 09 and 10) are fixed tables.

Demo e-SSC account labels (``essc_qr``), each naming a resident; a label is not a code — demo
mode and the tests mint a fresh signed code for one (:func:`kiosk_backend.essc_codes.mint_for`):

=====================  =====================================================================
``ESSC-DEMO-RESIDENT-01``  age 62, resident basic pension enrolled 16 years: may claim basic (34)
``ESSC-DEMO-RESIDENT-02``  age 67, receives resident basic pension (payments, one failed)
``ESSC-DEMO-RESIDENT-03``  age 41, lost job involuntarily, insured 30 months: may claim UI (23)
``ESSC-DEMO-RESIDENT-04``  age 63, enterprise pension retiree (payment records, two failed)
``ESSC-DEMO-RESIDENT-05``  age 24, not enrolled anywhere: may enrol in resident pension (28)
``ESSC-DEMO-RESIDENT-06``  age 17, a student: may not enrol yet
``ESSC-DEMO-RESIDENT-07``  age 35, employed and insured, holds a 就业创业证, file at an agency
``ESSC-DEMO-RESIDENT-08``  age 52, odd-job seeker (electrician) registered for items 4/5
``ESSC-DEMO-RESIDENT-09``  age 58, enterprise employee insured since 1994: 372 months of
                           1994-2024 plus every month of 2025 up to last month (item 25)
``ESSC-DEMO-RESIDENT-10``  age 48, resident pension with mixed 缴费类型 (正常缴费, 补缴,
                           政府代缴, one not yet credited) and 档次, and supplementary (item 33)
=====================  =====================================================================

Operator labels: ``ESSC-DEMO-OPERATOR-01`` (operator, active), ``-02`` (operator, locked),
``-03`` (vendor, active), ``-04`` (system_admin), ``-05`` (business_admin), ``-06`` (cancelled),
``-07`` (operator, active but idle for 4 months: locked at its next sign-in, per 附件3);
``-08`` the county counter and desk (``qy-counter-01``), ``-09`` the city desk (``cz-desk-01``),
``-10`` the province desk (``sx-desk-01``) — the console's demo staff.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from kiosk.domain.workdays import due_date
from kiosk_backend.db import reset_sequences
from kiosk_backend.identity import check_character
from kiosk_backend.models import (
    Application,
    ArchiveAgency,
    Contribution,
    Employer,
    EmploymentCertificate,
    JobFair,
    JobPosting,
    JobSeeker,
    Operator,
    Payment,
    Person,
    PersonArchive,
    PolicyDocument,
    PostingGram,
)
from kiosk_backend.search import index_rows, normalize
from kiosk_backend.seed.desks import ensure_demo_desks
from kiosk_backend.seed.places import REGION_CODE, TOWN_NAMES, TOWNS
from kiosk_backend.server_keys import ServerKeys

SEED = 20210305
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = "建国军华平明芳红丽娟强伟勇敏静秀英桂兰玉梅海燕霞文斌刚杰涛志新春林峰宇浩鹏飞晓东雪琴艳波小龙云凤俊彬辉磊晨阳"

# occupation → (fixed-job titles, monthly pay range in yuan)
FIXED_OCCUPATIONS: dict[str, tuple[tuple[str, ...], tuple[int, int]]] = {
    "司机": (("货车司机", "客车司机", "通勤班车司机", "叉车司机", "渣土车司机"), (4500, 9000)),
    "电工": (("维修电工", "煤矿井下电工", "物业电工", "高压电工"), (4500, 8500)),
    "焊工": (("电焊工", "氩弧焊工", "钢结构焊工"), (5000, 9500)),
    "厨师": (("中餐厨师", "食堂厨师", "面点师"), (3800, 7000)),
    "服务员": (("餐厅服务员", "酒店前台服务员", "景区服务员"), (2600, 4000)),
    "保安": (("小区保安", "厂区保安", "银行押运保安"), (2800, 4500)),
    "保洁": (("物业保洁员", "医院保洁员", "酒店客房保洁"), (2300, 3500)),
    "养老护理员": (("养老院护理员", "居家养老护理员"), (3200, 5000)),
    "育婴员": (("育婴员", "月嫂"), (4000, 8000)),
    "仓库管理员": (("仓库管理员", "物流仓管员"), (3500, 5000)),
    "销售": (("农资销售", "建材销售", "汽车销售顾问", "门店销售"), (3000, 7000)),
    "会计": (("出纳", "会计", "财务助理"), (3500, 6500)),
    "收银员": (("超市收银员", "加油站收银员"), (2600, 3600)),
    "采煤工": (("煤矿井下采煤工", "掘进工", "综采维修工"), (7000, 13000)),
    "挖掘机操作员": (("挖掘机操作员", "装载机司机"), (6000, 10000)),
    "中药材种植工": (("中药材种植技术员", "连翘基地管护员", "黄芩种植工"), (3000, 5000)),
    "养殖工": (("生猪养殖工", "肉牛饲养员", "蛋鸡养殖工"), (3500, 5500)),
    "导游": (("灵空山景区讲解员", "导游"), (3000, 5500)),
    "快递员": (("快递员", "外卖骑手"), (4000, 7500)),
    "机修工": (("汽车修理工", "设备维修工", "农机修理工"), (4000, 8000)),
}
# occupation → (odd-job titles, daily pay range in yuan)
ODD_OCCUPATIONS: dict[str, tuple[tuple[str, ...], tuple[int, int]]] = {
    "搬运工": (("装卸搬运", "搬家帮工", "粮食装车"), (150, 260)),
    "装修小工": (("装修小工", "刮腻子", "贴瓷砖帮工"), (160, 280)),
    "瓦工": (("砌墙瓦工", "院墙修补"), (220, 350)),
    "电工": (("临时电工", "房屋线路改造"), (220, 350)),
    "司机": (("临时司机", "农用车司机"), (200, 320)),
    "采摘工": (("连翘采摘", "苹果采摘", "核桃采收"), (110, 180)),
    "农工": (("玉米收割", "除草", "覆膜播种"), (100, 160)),
    "护工": (("医院陪护", "老人临时看护"), (150, 230)),
    "帮厨": (("红白事帮厨", "食堂临时帮厨"), (130, 200)),
    "保洁": (("开荒保洁", "家政保洁"), (120, 200)),
}
INDUSTRIES = ("煤炭", "建筑", "餐饮", "物业", "物流", "农业", "旅游", "零售", "制造", "养老服务")
EMPLOYER_STEMS = (
    "沁源县{town}兴旺",
    "沁源县宏达",
    "沁源县沁河",
    "长治市瑞丰",
    "沁源县灵空山",
    "沁源县金穗",
    "沁源县安泰",
    "沁源县聚源",
    "山西太岳",
    "沁源县恒通",
    "沁源县绿野",
    "沁源县鑫盛",
)
EMPLOYER_SUFFIX = {
    "煤炭": "煤业有限公司",
    "建筑": "建筑工程有限公司",
    "餐饮": "餐饮管理有限公司",
    "物业": "物业服务有限公司",
    "物流": "物流有限公司",
    "农业": "农业开发专业合作社",
    "旅游": "旅游开发有限公司",
    "零售": "商贸有限公司",
    "制造": "机械制造有限公司",
    "养老服务": "康养服务中心",
}
REQUIREMENTS = (
    "身体健康",
    "吃苦耐劳",
    "有相关经验者优先",
    "持证上岗",
    "年龄55岁以下",
    "能适应倒班",
    "有驾驶证",
    "服从安排",
)
FAILURE_REASONS = (
    "银行账户已销户，请到社保经办机构变更发放账户",
    "账户户名与参保人姓名不一致",
    "社会保障卡金融账户未激活",
    "银行账户被冻结",
)
BANKS = (
    "中国农业银行沁源县支行",
    "山西沁源农村商业银行",
    "中国邮政储蓄银行沁源县支行",
    "中国建设银行沁源县支行",
)


@dataclass(frozen=True)
class DemoResident:
    qr: str
    name: str
    gender: str
    age: int
    town: str
    village: str
    profile: str


DEMO_RESIDENTS = (
    DemoResident(
        "ESSC-DEMO-RESIDENT-01", "王秀英", "female", 62, "沁河镇", "西关村", "basic_claim_eligible"
    ),
    DemoResident(
        "ESSC-DEMO-RESIDENT-02", "李德顺", "male", 67, "郭道镇", "马森村", "resident_pensioner"
    ),
    DemoResident(
        "ESSC-DEMO-RESIDENT-03", "张建军", "male", 41, "沁河镇", "城关社区", "ui_claimant"
    ),
    DemoResident(
        "ESSC-DEMO-RESIDENT-04", "赵桂兰", "female", 63, "王和镇", "王和村", "enterprise_pensioner"
    ),
    DemoResident(
        "ESSC-DEMO-RESIDENT-05", "刘晓东", "male", 24, "灵空山镇", "南庄村", "not_enrolled"
    ),
    DemoResident("ESSC-DEMO-RESIDENT-06", "陈雨欣", "female", 17, "景凤镇", "官滩村", "student"),
    DemoResident(
        "ESSC-DEMO-RESIDENT-07", "郭志强", "male", 35, "沁河镇", "东关村", "employed_insured"
    ),
    DemoResident(
        "ESSC-DEMO-RESIDENT-08", "韩永平", "male", 52, "中峪乡", "南泉村", "odd_job_electrician"
    ),
    DemoResident("ESSC-DEMO-RESIDENT-09", "孙国庆", "male", 58, "郭道镇", "郭道村", "long_insured"),
    DemoResident(
        "ESSC-DEMO-RESIDENT-10", "田秀兰", "female", 48, "交口乡", "交口村", "mixed_resident"
    ),
)

# Resident 09 (item 25): 缴费基数 per calendar year 1994..2024 is 600 + 150 × (year − 1994) yuan,
# the personal rate 8 %; from 2025 the base is LONG_INSURED_BASE_NOW. Tests re-add these by hand.
LONG_INSURED_SINCE = 1994
LONG_INSURED_UNTIL = 2024
LONG_INSURED_BASE_NOW = 5400
ENTERPRISE_PERSONAL_RATE = Decimal("0.08")


def long_insured_base(year: int) -> int:
    """Resident 09's 缴费基数 in *year* (yuan)."""
    if year > LONG_INSURED_UNTIL:
        return LONG_INSURED_BASE_NOW
    return 600 + 150 * (year - LONG_INSURED_SINCE)


# Resident 10 (item 33): (year, scheme, 缴费类型, 档次, amount, subsidy, paid on). 2016 was missed
# and paid back in 2019 (补缴部分不享受缴费补贴, 附件2 item 32); 2017-2018 the government paid the
# lowest grade on her behalf. This year's payment is not yet credited (added relative to today).
MIXED_RESIDENT_CONTRIBUTIONS = (
    (2012, "resident_pension", "normal", "200元档", 200, 30, dt.date(2012, 6, 15)),
    (2013, "resident_pension", "normal", "200元档", 200, 30, dt.date(2013, 6, 14)),
    (2014, "resident_pension", "normal", "300元档", 300, 40, dt.date(2014, 6, 16)),
    (2015, "resident_pension", "normal", "300元档", 300, 40, dt.date(2015, 6, 15)),
    (2016, "resident_pension", "back_payment", "300元档", 300, 0, dt.date(2019, 5, 10)),
    (2017, "resident_pension", "government_paid", "200元档", 200, 30, dt.date(2017, 9, 1)),
    (2018, "resident_pension", "government_paid", "200元档", 200, 30, dt.date(2018, 9, 3)),
    (2019, "resident_pension", "normal", "500元档", 500, 60, dt.date(2019, 6, 17)),
    (2020, "resident_pension", "normal", "500元档", 500, 60, dt.date(2020, 6, 15)),
    (2021, "resident_pension", "normal", "1000元档", 1000, 80, dt.date(2021, 6, 15)),
    (2022, "resident_pension", "normal", "1000元档", 1000, 80, dt.date(2022, 6, 15)),
    (2022, "resident_supplementary", "normal", "100元档", 100, 0, dt.date(2022, 6, 15)),
    (2023, "resident_pension", "normal", "1000元档", 1000, 80, dt.date(2023, 6, 15)),
    (2023, "resident_supplementary", "normal", "100元档", 100, 0, dt.date(2023, 6, 15)),
    (2024, "resident_pension", "normal", "1000元档", 1000, 80, dt.date(2024, 6, 14)),
    (2024, "resident_supplementary", "normal", "100元档", 100, 0, dt.date(2024, 6, 14)),
)
RESIDENT_GRADES = ((200, 30), (300, 40), (500, 60), (1000, 80), (2000, 100))  # 档次, 补贴


class _Ids:
    """Sequential-number source making ID numbers unique per birth date and gender."""

    def __init__(self) -> None:
        self._used: set[str] = set()

    def make(self, rng: random.Random, birth: dt.date, gender: str) -> str:
        while True:
            seq = rng.randrange(0, 999)
            if (seq % 2 == 1) != (gender == "male"):
                seq = (seq + 1) % 1000
            first17 = f"{REGION_CODE}{birth:%Y%m%d}{seq:03d}"
            number = first17 + check_character(first17)
            if number not in self._used:
                self._used.add(number)
                return number


def _birth_for_age(rng: random.Random, today: dt.date, age: int) -> dt.date:
    """A birth date giving exactly *age* full years on *today*."""
    start = dt.date(today.year - age - 1, today.month, 1) + dt.timedelta(days=40)
    day = start + dt.timedelta(days=rng.randrange(0, 300))
    if _age(day, today) != age:
        day = dt.date(today.year - age, 1, 1)
        if _age(day, today) != age:
            day = dt.date(today.year - age - 1, 12, 31)
    return day


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _phone(rng: random.Random) -> str:
    return rng.choice(("138", "139", "150", "151", "152", "158", "187", "135")) + "".join(
        str(rng.randrange(10)) for _ in range(8)
    )


def _months_back(today: dt.date, count: int) -> list[str]:
    """The *count* months before today's month, oldest first, as YYYY-MM."""
    year, month = today.year, today.month
    out = []
    for _ in range(count):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        out.append(f"{year:04d}-{month:02d}")
    return list(reversed(out))


class _Seeder:
    def __init__(self, session: Session, today: dt.date):
        self.s = session
        self.today = today
        self.ids = _Ids()
        self.next_person_id = 1
        self.rows: dict[type, list[dict]] = {}

    @staticmethod
    def rng_for(section: str) -> random.Random:
        """The random source of one section (see the module docstring)."""
        return random.Random(f"{SEED}:{section}")

    def add(self, model: type, **values) -> None:
        self.rows.setdefault(model, []).append(values)

    def flush(self, *models: type) -> None:
        for model in models:
            rows = self.rows.pop(model, [])
            for start in range(0, len(rows), 2000):
                self.s.execute(insert(model), rows[start : start + 2000])

    # --- persons and their records -----------------------------------------------------------

    def person(
        self,
        rng: random.Random,
        *,
        name: str,
        gender: str,
        birth: dt.date,
        town: str,
        village: str,
        **extra,
    ) -> int:
        pid = self.next_person_id
        self.next_person_id += 1
        self.add(
            Person,
            id=pid,
            id_number=self.ids.make(rng, birth, gender),
            name=name,
            gender=gender,
            birth_date=birth,
            phone=_phone(rng),
            town=town,
            village=village,
            **extra,
        )
        return pid

    def resident_contributions(
        self,
        rng: random.Random,
        pid: int,
        years: int,
        last_year: int,
        supplementary: bool = False,
    ) -> None:
        for year in range(last_year - years + 1, last_year + 1):
            amount, subsidy = rng.choice(RESIDENT_GRADES)
            self.add(
                Contribution,
                person_id=pid,
                scheme="resident_pension",
                period=f"{year}",
                contribution_type="normal",
                grade=f"{amount}元档",
                base=None,
                amount=Decimal(amount),
                subsidy=Decimal(subsidy),
                employer_name="",
                credited=True,
                paid_on=dt.date(year, rng.randrange(3, 11), 15),
            )
            if supplementary:
                self.add(
                    Contribution,
                    person_id=pid,
                    scheme="resident_supplementary",
                    period=f"{year}",
                    contribution_type="normal",
                    grade="100元档",
                    base=None,
                    amount=Decimal(100),
                    subsidy=Decimal(0),
                    employer_name="",
                    credited=True,
                    paid_on=dt.date(year, 6, 20),
                )

    def monthly_contributions(
        self, pid: int, scheme: str, months: list[str], employer: str, base: int, rate: Decimal
    ) -> None:
        for period in months:
            year, month = int(period[:4]), int(period[5:])
            self.add(
                Contribution,
                person_id=pid,
                scheme=scheme,
                period=period,
                contribution_type="normal",
                base=Decimal(base),
                amount=(Decimal(base) * rate).quantize(Decimal("0.01")),
                subsidy=Decimal(0),
                employer_name=employer,
                credited=True,
                paid_on=dt.date(year, month, 25),
            )

    def payments(
        self,
        rng: random.Random,
        pid: int,
        scheme: str,
        months: list[str],
        amount: Decimal,
        shares: tuple[tuple[str, Decimal], ...],
        failures: int,
    ) -> None:
        failed = set(rng.sample(range(len(months)), min(failures, len(months))))
        bank = rng.choice(BANKS)
        tail = f"{rng.randrange(10000):04d}"
        components = split_benefit(amount, shares)
        for index, period in enumerate(months):
            year, month = int(period[:4]), int(period[5:])
            is_failed = index in failed
            self.add(
                Payment,
                person_id=pid,
                scheme=scheme,
                period=period,
                amount=amount,
                components=components,
                status="failed" if is_failed else "paid",
                failure_reason=rng.choice(FAILURE_REASONS) if is_failed else "",
                bank=bank,
                account_tail=tail,
                paid_on=None if is_failed else dt.date(year, month, 10),
            )

    def long_insured_history(self, pid: int, employer: str) -> None:
        """Resident 09: every month since LONG_INSURED_SINCE, bases as long_insured_base says."""
        first = dt.date(LONG_INSURED_SINCE, 1, 1)
        count = (self.today.year - first.year) * 12 + self.today.month - first.month
        for period in _months_back(self.today, count):
            year, month = int(period[:4]), int(period[5:])
            base = Decimal(long_insured_base(year))
            self.add(
                Contribution,
                person_id=pid,
                scheme="enterprise_pension",
                period=period,
                contribution_type="normal",
                base=base,
                amount=(base * ENTERPRISE_PERSONAL_RATE).quantize(Decimal("0.01")),
                subsidy=Decimal(0),
                employer_name=employer,
                credited=True,
                paid_on=dt.date(year, month, 25),
            )

    def mixed_resident_history(self, pid: int) -> None:
        """Resident 10: MIXED_RESIDENT_CONTRIBUTIONS, then this year's, not yet credited."""
        rows = [*MIXED_RESIDENT_CONTRIBUTIONS]
        rows.append(
            (self.today.year, "resident_pension", "normal", "1000元档", 1000, 80, self.today)
        )
        for year, scheme, kind, grade, amount, subsidy, paid_on in rows:
            self.add(
                Contribution,
                person_id=pid,
                scheme=scheme,
                period=f"{year}",
                contribution_type=kind,
                grade=grade,
                base=None,
                amount=Decimal(amount),
                subsidy=Decimal(subsidy),
                employer_name="",
                credited=year != self.today.year,
                paid_on=paid_on,
            )

    def demo_history(self) -> None:
        """Earlier 办件 of the demo residents, so 我的办件 shows every kind of outcome."""
        history = (
            # (resident no, item, kind, status, days ago, working days, result)
            (1, 30, "work_order", "completed", 200, 0, "联系电话已变更"),
            (
                3,
                11,
                "unemployment_registration",
                "approved",
                40,
                10,
                "失业登记已办结，可申领失业保险金",
            ),
            (7, 22, "skill_subsidy", "rejected", 90, 5, "证书等级与职业不符，请核对后重新申请"),
            (7, 10, "flexible_employment", "in_review", 2, 5, ""),
        )
        for seq, (resident, item_no, kind, status, days_ago, working_days, result) in enumerate(
            history, 1
        ):
            filed = self.today - dt.timedelta(days=days_ago)
            due = due_date(filed, working_days) if working_days else None
            self.add(
                Application,
                number=f"BJ{filed:%Y%m%d}9{seq:05d}",
                person_id=resident,  # demo residents are persons 1..10, in order
                item_no=item_no,
                kind=kind,
                status=status,
                details={},
                kiosk_id="demo-kiosk-0001",
                service_point="沁源县沁河镇城关社区就业社保服务点",
                region_code=REGION_CODE,
                submitted_at=dt.datetime.combine(filed, dt.time(2, 15), dt.UTC),
                due_date=due.date if due else filed,
                due_estimated=due.estimated if due else False,
                result=result,
            )

    def demo_residents(self, employers: list[str]) -> None:
        for demo in DEMO_RESIDENTS:
            rng = self.rng_for(f"resident:{demo.qr}")
            birth = _birth_for_age(rng, self.today, demo.age)
            base = dict(
                name=demo.name,
                gender=demo.gender,
                birth=birth,
                town=demo.town,
                village=demo.village,
                essc_qr=demo.qr,
            )
            p = demo.profile
            if p == "basic_claim_eligible":
                pid = self.person(
                    rng, **base, employment_status="retired_farmer", resident_basic_enrolled=True
                )
                self.resident_contributions(rng, pid, 16, self.today.year - 1)
            elif p == "resident_pensioner":
                pid = self.person(
                    rng,
                    **base,
                    employment_status="retired_farmer",
                    resident_basic_enrolled=True,
                    receiving_resident_basic=True,
                )
                self.resident_contributions(rng, pid, 15, self.today.year - 8)
                self.payments(
                    rng,
                    pid,
                    "resident_pension",
                    _months_back(self.today, 12),
                    Decimal("213.00"),
                    RESIDENT_PENSION_SHARES,
                    failures=1,
                )
            elif p == "ui_claimant":
                pid = self.person(
                    rng,
                    **base,
                    employment_status="unemployed",
                    ui_insured_months=30,
                    separation_reason="involuntary",
                    registered_unemployed=True,
                    seeking_work=True,
                    enterprise_pension_status="suspended",
                    enterprise_pension_since=dt.date(2012, 3, 1),
                )
                months = _months_back(self.today, 33)[:30]
                self.monthly_contributions(
                    pid, "unemployment", months, employers[0], 4200, Decimal("0.003")
                )
                self.monthly_contributions(
                    pid, "enterprise_pension", months, employers[0], 4200, Decimal("0.08")
                )
            elif p == "enterprise_pensioner":
                pid = self.person(
                    rng,
                    **base,
                    employment_status="retired",
                    enterprise_pension_status="receiving",
                    enterprise_pension_since=dt.date(1993, 7, 1),
                    receiving_enterprise_pension=True,
                    job_category="worker",
                )
                self.payments(
                    rng,
                    pid,
                    "enterprise_pension",
                    _months_back(self.today, 12),
                    Decimal("3126.40"),
                    ENTERPRISE_PENSION_SHARES,
                    failures=2,
                )
            elif p == "not_enrolled":
                pid = self.person(rng, **base, employment_status="unemployed", seeking_work=True)
            elif p == "student":
                pid = self.person(rng, **base, employment_status="student", is_student=True)
            elif p == "employed_insured":
                pid = self.person(
                    rng,
                    **base,
                    employment_status="employed",
                    enterprise_pension_status="active",
                    enterprise_pension_since=dt.date(2011, 9, 1),
                    ui_insured_months=36,
                )
                months = _months_back(self.today, 24)
                self.monthly_contributions(
                    pid, "enterprise_pension", months, employers[1], 5100, Decimal("0.08")
                )
                self.monthly_contributions(
                    pid, "unemployment", months, employers[1], 5100, Decimal("0.003")
                )
                self.add(
                    EmploymentCertificate,
                    person_id=pid,
                    cert_no="1404310020190417",
                    issued_on=dt.date(2019, 4, 17),
                    issuer="沁源县公共就业服务中心",
                    status="valid",
                    employment_state="已就业",
                )
                self.add(
                    PersonArchive, person_id=pid, agency_id=1, received_on=dt.date(2011, 8, 20)
                )
            elif p == "long_insured":
                pid = self.person(
                    rng,
                    **base,
                    employment_status="employed",
                    enterprise_pension_status="active",
                    enterprise_pension_since=dt.date(LONG_INSURED_SINCE, 1, 1),
                    ui_insured_months=120,
                    job_category="worker",
                )
                self.long_insured_history(pid, employers[2])
            elif p == "mixed_resident":
                pid = self.person(
                    rng,
                    **base,
                    employment_status="flexible",
                    resident_basic_enrolled=True,
                    resident_supplementary_enrolled=True,
                )
                self.mixed_resident_history(pid)
            else:  # odd_job_electrician
                pid = self.person(
                    rng,
                    **base,
                    employment_status="flexible",
                    seeking_work=True,
                    resident_basic_enrolled=True,
                )
                self.resident_contributions(rng, pid, 9, self.today.year - 1)
                self.add(
                    JobSeeker,
                    person_id=pid,
                    kind="odd",
                    occupations=["电工", "装修小工"],
                    towns=["中峪乡", "沁河镇"],
                    salary_min=200,
                    salary_max=350,
                    phone=_phone(rng),
                    skills="持低压电工证",
                    available_from=self.today,
                    registered_at=dt.datetime.combine(
                        self.today - dt.timedelta(days=20), dt.time(9, 30), dt.UTC
                    ),
                    active=True,
                )
                self.add(
                    Application,
                    number=f"BJ{self.today - dt.timedelta(days=20):%Y%m%d}0001",
                    person_id=pid,
                    item_no=4,
                    kind="odd_job_seeker",
                    status="completed",
                    details={},
                    kiosk_id="demo-kiosk-0001",
                    service_point="中峪乡便民服务中心",
                    region_code=REGION_CODE,
                    submitted_at=dt.datetime.combine(
                        self.today - dt.timedelta(days=20), dt.time(9, 30), dt.UTC
                    ),
                    due_date=self.today - dt.timedelta(days=20),
                    due_estimated=False,
                    result="已登记，可在“零工岗位信息推荐”查看匹配岗位",
                )

    def population(self, count: int, employers: list[str]) -> None:
        rng = self.rng_for("population")
        for _ in range(count):
            gender = rng.choice(("male", "female"))
            age = rng.randrange(16, 86)
            birth = _birth_for_age(rng, self.today, age)
            town = rng.choice(TOWN_NAMES)
            village = rng.choice(TOWNS[town])
            name = rng.choice(SURNAMES) + "".join(
                rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))
            )
            extra: dict = {}
            if age < 19 and rng.random() < 0.7:
                extra.update(is_student=True, employment_status="student")
                self.person(
                    rng, name=name, gender=gender, birth=birth, town=town, village=village, **extra
                )
                continue
            enterprise = 19 <= age < 60 and rng.random() < 0.35
            if enterprise:
                extra.update(
                    job_category=rng.choice(("worker", "cadre")) if gender == "female" else "",
                    enterprise_pension_status="active",
                    ui_insured_months=rng.randrange(6, 120),
                    enterprise_pension_since=dt.date(self.today.year - rng.randrange(1, 20), 1, 1),
                )
            elif age >= 60 and rng.random() < 0.15:
                extra.update(
                    enterprise_pension_status="receiving",
                    receiving_enterprise_pension=True,
                    employment_status="retired",
                )
            else:
                extra.update(resident_basic_enrolled=rng.random() < 0.85)
                if age >= 60 and extra["resident_basic_enrolled"]:
                    extra.update(receiving_resident_basic=True, employment_status="retired_farmer")
                    if age >= 65 and rng.random() < 0.5:
                        extra.update(
                            resident_supplementary_enrolled=True,
                            receiving_resident_supplementary=True,
                        )
            if 19 <= age < 60 and not enterprise and rng.random() < 0.15:
                extra.update(
                    employment_status="unemployed",
                    registered_unemployed=rng.random() < 0.5,
                    seeking_work=True,
                )
            if extra.get("registered_unemployed") and rng.random() < 0.5:
                extra.update(
                    receiving_ui_benefit=True,
                    separation_reason="involuntary",
                    ui_insured_months=rng.randrange(12, 96),
                )
            pid = self.person(
                rng, name=name, gender=gender, birth=birth, town=town, village=village, **extra
            )
            self.extras(rng, pid, age, town, extra)
            if enterprise:
                employer = rng.choice(employers)
                months = _months_back(self.today, 24)
                base = rng.randrange(3600, 8000, 100)
                self.monthly_contributions(
                    pid, "enterprise_pension", months, employer, base, Decimal("0.08")
                )
                if rng.random() < 0.2:
                    self.add(
                        EmploymentCertificate,
                        person_id=pid,
                        cert_no=f"14043100{pid:08d}",
                        issued_on=self.today - dt.timedelta(days=rng.randrange(30, 3000)),
                        issuer="沁源县公共就业服务中心",
                        status="valid",
                        employment_state="已就业",
                    )
            elif extra.get("receiving_enterprise_pension"):
                self.payments(
                    rng,
                    pid,
                    "enterprise_pension",
                    _months_back(self.today, 12),
                    Decimal(rng.randrange(2200, 4800)),
                    ENTERPRISE_PENSION_SHARES,
                    failures=1 if rng.random() < 0.1 else 0,
                )
            elif extra.get("resident_basic_enrolled"):
                years = min(age - 16, rng.randrange(3, 20))
                last = self.today.year - 1 if age < 60 else self.today.year - (age - 59)
                self.resident_contributions(
                    rng,
                    pid,
                    max(years, 1),
                    last,
                    supplementary=extra.get("resident_supplementary_enrolled", False),
                )
                if extra.get("receiving_resident_basic"):
                    self.payments(
                        rng,
                        pid,
                        "resident_pension",
                        _months_back(self.today, 12),
                        Decimal(rng.choice(("188.00", "203.00", "213.00", "236.00"))),
                        RESIDENT_PENSION_SHARES,
                        failures=1 if rng.random() < 0.08 else 0,
                    )

    def extras(self, rng: random.Random, pid: int, age: int, town: str, facts: dict) -> None:
        """Benefit payouts, personnel files and job-seeker registrations of one person."""
        if facts.get("receiving_ui_benefit"):
            months = _months_back(self.today, rng.randrange(2, 12))
            self.payments(
                rng,
                pid,
                "unemployment_benefit",
                months,
                Decimal("1674.00"),
                UNEMPLOYMENT_BENEFIT_SHARES,
                failures=1 if rng.random() < 0.15 else 0,
            )
        if 19 <= age < 60 and rng.random() < 0.15:
            self.add(
                PersonArchive,
                person_id=pid,
                agency_id=rng.choice((1, 1, 1, 2, 3)),
                received_on=self.today - dt.timedelta(days=rng.randrange(100, 6000)),
            )
        if 16 <= age < 65 and not facts.get("is_student") and rng.random() < 0.18:
            kind = "odd" if age >= 45 or rng.random() < 0.5 else "fixed"
            table = ODD_OCCUPATIONS if kind == "odd" else FIXED_OCCUPATIONS
            occupations = rng.sample(tuple(table), rng.randrange(1, 3))
            low, high = table[occupations[0]][1]
            self.add(
                JobSeeker,
                person_id=pid,
                kind=kind,
                occupations=occupations,
                towns=[town] if rng.random() < 0.7 else [],
                salary_min=low,
                salary_max=high,
                phone=_phone(rng),
                skills="",
                available_from=self.today - dt.timedelta(days=rng.randrange(0, 30)),
                registered_at=dt.datetime.combine(
                    self.today - dt.timedelta(days=rng.randrange(1, 200)), dt.time(2, 0), dt.UTC
                ),
                active=True,
            )

    # --- employers, postings -----------------------------------------------------------------

    def employers(self, count: int) -> list[str]:
        rng = self.rng_for("employers")
        names: list[str] = []
        for eid in range(1, count + 1):
            industry = rng.choice(INDUSTRIES)
            town = rng.choice(TOWN_NAMES)
            stem = rng.choice(EMPLOYER_STEMS).format(town=town[:-1])
            name = f"{stem}{EMPLOYER_SUFFIX[industry]}"
            if name in names:
                name = f"{stem}第{eid}{EMPLOYER_SUFFIX[industry]}"
            names.append(name)
            self.add(
                Employer,
                id=eid,
                name=name,
                industry=industry,
                town=town,
                contact_phone=f"0355-{rng.randrange(7000000, 7999999)}",
            )
        return names

    def postings(
        self, count: int, employers: list[str], start_id: int = 1, section: str = "postings"
    ) -> None:
        rng = self.rng_for(f"{section}:{start_id}")
        for offset in range(count):
            pid = start_id + offset
            fixed = rng.random() < 0.7
            table = FIXED_OCCUPATIONS if fixed else ODD_OCCUPATIONS
            occupation = rng.choice(tuple(table))
            titles, (low, high) = table[occupation]
            title = rng.choice(titles)
            town = rng.choice(TOWN_NAMES)
            village = rng.choice(TOWNS[town])
            step = 100 if fixed else 10
            salary_min = rng.randrange(low, high, step)
            salary_max = min(high, salary_min + rng.randrange(1, 6) * step * (5 if fixed else 2))
            posted = self.today - dt.timedelta(days=rng.randrange(0, 120))
            employer = (
                rng.choice(employers)
                if fixed
                else (
                    rng.choice(employers)
                    if rng.random() < 0.4
                    else f"{village}{rng.choice(SURNAMES)}先生"
                )
            )
            requirements = "，".join(rng.sample(REQUIREMENTS, 2))
            description = (
                f"招{title}{rng.randrange(1, 9)}名"
                if fixed
                else f"{village}{title}，需{rng.randrange(1, 6)}人，干{rng.randrange(1, 8)}天"
            )
            posting = dict(
                id=pid,
                kind="fixed" if fixed else "odd",
                title=title,
                occupation=occupation,
                employer_name=employer,
                town=town,
                village=village,
                salary_min=salary_min,
                salary_max=salary_max,
                salary_unit="month" if fixed else "day",
                headcount=rng.randrange(1, 10),
                description=description,
                requirements=requirements,
                contact_phone=_phone(rng)
                if not fixed
                else f"0355-{rng.randrange(7000000, 7999999)}",
                posted_on=posted,
                valid_until=posted + dt.timedelta(days=90 if fixed else 14),
            )
            parts = [title, occupation, employer, town, village, description]
            posting["search_text"] = "|".join(normalize(p) for p in parts)
            self.add(JobPosting, **posting)
            for row in index_rows(
                pid, posting["search_text"], posting["kind"], posted, posting["valid_until"]
            ):
                self.add(PostingGram, **row)

    # --- public information ------------------------------------------------------------------

    def public_info(self) -> None:
        for pid, (title, doc_no, issuer, year, category, summary) in enumerate(_POLICIES, 1):
            self.add(
                PolicyDocument,
                id=pid,
                title=title,
                doc_no=doc_no,
                issuer=issuer,
                published_on=dt.date(year, 3 + pid % 9, 1 + pid),
                category=category,
                summary=summary,
                body=summary + "（全文请到服务点或县人社局官网查阅。）",
            )
        for fid, (title, town, venue, audience) in enumerate(_FAIRS, 1):
            day = self.today + dt.timedelta(days=7 * fid - 10)
            start = dt.datetime.combine(day, dt.time(1, 0), dt.UTC)  # 09:00 Beijing
            self.add(
                JobFair,
                id=fid,
                title=title,
                starts_at=start,
                ends_at=start + dt.timedelta(hours=4),
                venue=venue,
                town=town,
                audience=audience,
                organiser="沁源县公共就业服务中心",
                employers_count=20 + 5 * fid,
                positions_count=300 + 40 * fid,
                contact_phone="0355-7022345",
            )
        for aid, (name, address, phone, scope) in enumerate(_AGENCIES, 1):
            self.add(
                ArchiveAgency,
                id=aid,
                name=name,
                address=address,
                phone=phone,
                hours="周一至周五 8:30-12:00 14:30-17:30",
                scope=scope,
            )

    def operators(self) -> None:
        specs = (
            ("qyhe-op-001", "李春梅", "operator", "active", "沁河镇城关社区", _OPERATOR_DUTIES),
            ("qyhe-op-002", "王海涛", "operator", "locked", "郭道镇郭道村", _OPERATOR_DUTIES),
            ("vendor-eng-01", "周斌", "vendor", "active", "沁源县", ["VIEW_FLEET"]),
            ("qy-sysadmin", "孙丽", "system_admin", "active", "沁源县人社局", ["VIEW_FLEET"]),
            ("qy-bizadmin", "马强", "business_admin", "active", "沁源县人社局", []),
            ("qyhe-op-003", "高玉兰", "operator", "cancelled", "灵空山镇", []),
            ("qyhe-op-004", "赵文斌", "operator", "active", "王陶镇王陶村", _OPERATOR_DUTIES),
        )
        rng = self.rng_for("operators")
        for n, (account, name, role, status, region, grants) in enumerate(specs, 1):
            idle_days = 120 if n == 7 else 2  # 07 has not signed in for 4 months
            last_signin = dt.datetime.combine(
                self.today - dt.timedelta(days=idle_days), dt.time(1, 30), dt.UTC
            )
            gender = "female" if name[-1] in "梅丽兰" else "male"
            birth = _birth_for_age(rng, self.today, 30 + 3 * n)
            self.add(
                Operator,
                account=account,
                name=name,
                id_number=self.ids.make(rng, birth, gender),
                phone=_phone(rng),
                role=role,
                status=status,
                region=region,
                essc_qr=f"ESSC-DEMO-OPERATOR-{n:02d}",
                last_signin_at=last_signin,
                created_at=last_signin - dt.timedelta(days=400),
                region_code=REGION_CODE,
                grants=grants,
                lock_reason="frozen" if status == "locked" else "",
            )
        self.console_staff(first_code=len(specs) + 1)

    def console_staff(self, first_code: int) -> None:
        """The staff behind the demo desks (county counter, city and province desks): console
        accounts with e-SSC codes ESSC-DEMO-OPERATOR-08 … -10. Own RNG, so the rows above and
        every section after keep their values."""
        rng = random.Random(f"{SEED}:console-staff")
        specs = (
            ("qy-counter-01", "韩晓东", REGION_CODE, "沁源县人社局就业股", _COUNTER_DUTIES),
            ("cz-desk-01", "冯雪梅", REGION_CODE[:4], "长治市人社局就业科", ["ANSWER_TICKETS"]),
            ("sx-desk-01", "郑建国", REGION_CODE[:2], "省就近办工作专班", ["ANSWER_TICKETS"]),
        )
        for n, (account, name, region_code, region, grants) in enumerate(specs, first_code):
            gender = "female" if name[-1] in "梅丽兰" else "male"
            birth = _birth_for_age(rng, self.today, 32 + n)
            last_signin = dt.datetime.combine(
                self.today - dt.timedelta(days=1), dt.time(1, 0), dt.UTC
            )
            self.add(
                Operator,
                account=account,
                name=name,
                id_number=self.ids.make(rng, birth, gender),
                phone=_phone(rng),
                role="operator",
                status="active",
                region=region,
                essc_qr=f"ESSC-DEMO-OPERATOR-{n:02d}",
                last_signin_at=last_signin,
                created_at=last_signin - dt.timedelta(days=200),
                region_code=region_code,
                grants=grants,
                lock_reason="",
            )


_OPERATOR_DUTIES = ["WATCH_HELP_REQUESTS", "VIEW_FLEET"]
_COUNTER_DUTIES = ["HANDLE_APPLICATIONS", "ANSWER_TICKETS", "WATCH_HELP_REQUESTS", "VIEW_FLEET"]


# 待遇项目组成 (shares of the monthly benefit; fictional proportions)
ENTERPRISE_PENSION_SHARES = (
    ("基础养老金", Decimal("0.45")),
    ("个人账户养老金", Decimal("0.25")),
    ("过渡性养老金", Decimal("0.22")),
    ("调节金", Decimal("0.08")),
)
UNEMPLOYMENT_BENEFIT_SHARES = (("失业保险金", Decimal("1")),)
RESIDENT_PENSION_SHARES = (
    ("基础养老金", Decimal("0.78")),
    ("个人账户养老金", Decimal("0.22")),
)


def split_benefit(amount: Decimal, shares: tuple[tuple[str, Decimal], ...]) -> list[dict]:
    """The benefit's items in fen, as stored: each share rounded, the last one taking the
    remainder, so the items always add up to *amount*."""
    items, left = [], amount
    for index, (name, share) in enumerate(shares):
        value = left if index == len(shares) - 1 else (amount * share).quantize(Decimal("0.01"))
        left -= value
        items.append({"name": name, "amount": str(value)})
    return items


_POLICIES = (
    (
        "山西省就业促进条例",
        "",
        "山西省人大常委会",
        2021,
        "法规",
        "规定政府促进就业的职责、公共就业服务和就业援助等内容。",
    ),
    (
        "关于进一步做好稳就业工作的若干措施",
        "晋政办发〔2024〕12号",
        "山西省人民政府办公厅",
        2024,
        "政策",
        "明确吸纳就业补贴、社会保险补贴、创业担保贷款等支持措施。",
    ),
    (
        "失业保险金申领办理指南",
        "",
        "沁源县社会保险中心",
        2025,
        "指南",
        "参保缴费满一年、非因本人意愿中断就业、已办理失业登记并有求职要求的，可申领失业保险金。",
    ),
    (
        "技能提升补贴政策问答",
        "",
        "沁源县人社局",
        2025,
        "指南",
        "企业在职参保职工或领取失业保险金人员取得职业资格证书或职业技能等级证书的，可申领技能提升补贴。",
    ),
    (
        "城乡居民基本养老保险实施办法",
        "晋政发〔2014〕31号",
        "山西省人民政府",
        2014,
        "政策",
        "年满16周岁（不含在校学生）未参加职工基本养老保险的城乡居民，可在户籍地参加城乡居民养老保险。",
    ),
    (
        "城乡居民补充养老保险办法",
        "",
        "山西省人社厅",
        2022,
        "政策",
        "参加城乡居民基本养老保险且未满65周岁的人员可参加补充养老保险，年满65周岁可申领补充养老保险待遇。",
    ),
    (
        "灵活就业人员参加企业职工基本养老保险办法",
        "",
        "山西省人社厅",
        2023,
        "政策",
        "无雇工的个体工商户、未在用人单位参保的非全日制从业人员等灵活就业人员可参保。",
    ),
    (
        "零工市场建设和服务规范",
        "",
        "沁源县人社局",
        2024,
        "政策",
        "规范零工信息发布、求职登记、匹配推荐和权益保障。",
    ),
    (
        "就业创业证管理办法",
        "",
        "沁源县公共就业服务中心",
        2020,
        "指南",
        "《就业创业证》是劳动者享受公共就业服务和就业扶持政策的凭证。",
    ),
    (
        "创业担保贷款实施细则",
        "",
        "沁源县人社局",
        2024,
        "政策",
        "符合条件的个人创业者可申请最高30万元创业担保贷款，按规定享受贴息。",
    ),
)
_FAIRS = (
    (
        "2026年冬季就业援助月专场招聘会",
        "沁河镇",
        "沁源县人力资源市场一楼大厅",
        "就业困难人员、失业人员",
    ),
    (
        "沁源县煤炭企业专场招聘会",
        "郭道镇",
        "郭道镇便民服务中心广场",
        "有意从事煤矿相关工作的劳动者",
    ),
    ("春风行动暨农民工专场招聘会", "沁河镇", "沁源县体育馆", "农村劳动力、返乡人员"),
    ("高校毕业生就业见习岗位对接会", "沁河镇", "沁源县职业中学报告厅", "高校毕业生、未就业青年"),
    ("灵空山景区旅游服务岗位招聘会", "灵空山镇", "灵空山镇政府院内", "有意从事旅游服务的劳动者"),
    ("乡村振兴零工对接会", "王陶镇", "王陶镇零工驿站", "零工求职者和用工户"),
)
_AGENCIES = (
    (
        "沁源县公共就业服务中心人事代理档案室",
        "沁源县沁河镇长征路人社大厦二楼",
        "0355-7023456",
        "县内流动人员人事档案、高校毕业生档案",
    ),
    (
        "长治市人才交流服务中心",
        "长治市潞州区英雄中路人才大厦",
        "0355-2023456",
        "市属单位流动人员人事档案",
    ),
    ("山西省人才交流服务中心", "太原市小店区体育路", "0351-4567890", "省属单位流动人员人事档案"),
)


def seed_demo_data(
    sessions: sessionmaker[Session],
    *,
    postings: int = 3000,
    persons: int = 400,
    today: dt.date | None = None,
    keys: ServerKeys | None = None,
) -> None:
    """Fill an empty database with the demo data (one transaction; blocking).

    With the server key ring *keys* the demo responder desks are provisioned too.
    """
    today = today or dt.date.today()
    with sessions() as session:
        seeder = _Seeder(session, today)
        employers = seeder.employers(120)
        seeder.public_info()
        seeder.flush(Employer, PolicyDocument, JobFair, ArchiveAgency)
        seeder.demo_residents(employers)
        seeder.demo_history()
        seeder.population(persons, employers)
        seeder.operators()
        seeder.flush(Person, Operator)
        seeder.flush(
            Contribution, Payment, EmploymentCertificate, PersonArchive, JobSeeker, Application
        )
        seeder.postings(postings, employers)
        seeder.flush(JobPosting, PostingGram)
        reset_sequences(
            session,
            [
                "persons",
                "employers",
                "job_postings",
                "contributions",
                "payments",
                "employment_certificates",
                "policy_documents",
                "job_fairs",
                "archive_agencies",
                "job_seekers",
                "applications",
            ],
        )
        if keys is not None:
            ensure_demo_desks(session, keys)
        session.commit()


def add_postings(
    sessions: sessionmaker[Session], count: int, *, start_id: int, today: dt.date | None = None
) -> None:
    """Bulk-add *count* generated postings (benchmarks): ids from *start_id*."""
    today = today or dt.date.today()
    with sessions() as session:
        seeder = _Seeder(session, today)
        employers = [f"沁源县示例{n}有限公司" for n in range(1, 200)]
        batch = 5000
        for offset in range(0, count, batch):
            n = min(batch, count - offset)
            seeder.postings(n, employers, start_id=start_id + offset, section="bulk")
            seeder.flush(JobPosting, PostingGram)
        reset_sequences(session, ["job_postings"])
        session.commit()
