"""Deterministic demo workers: realistic names, valid resident ID numbers with real regional prefixes (local
districts and the provinces Suzhou's migrant workers come from), unique mobiles, employment forms including
新就业形态. Generated, never real people: sequences and mobiles are drawn from a seeded generator."""

import random
from dataclasses import dataclass
from datetime import date, timedelta

from stdnum.cn import ric

# Weighted by how common they are (rough shares of the population).
SURNAMES = [
    ("王", 72), ("李", 71), ("张", 68), ("刘", 53), ("陈", 45), ("杨", 31), ("黄", 25), ("赵", 20), ("吴", 20),
    ("周", 19), ("徐", 15), ("孙", 15), ("马", 13), ("朱", 13), ("胡", 12), ("郭", 11), ("何", 10), ("林", 10),
    ("高", 10), ("罗", 9), ("郑", 9), ("梁", 8), ("谢", 7), ("宋", 7), ("唐", 7), ("许", 6), ("韩", 6), ("冯", 6),
    ("邓", 6), ("曹", 6), ("彭", 5), ("曾", 5), ("沈", 5), ("顾", 4), ("陆", 4), ("钱", 3), ("欧阳", 1),
]  # fmt: skip
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国红梅志文辉鹏晨宇浩然佳怡欣雨婷子涵思远俊博嘉琪"
LOCAL_REGIONS = ["320505", "320506", "320507", "320508", "320509", "320581", "320582", "320583", "320585"]
MIGRANT_REGIONS = [
    "341221", "411522", "510722", "522422", "430521", "362421", "341282", "412726", "500228", "370983", "321323",
    "340822", "411325",
]  # fmt: skip
EMPLOYMENT = [
    ("standard", 82), ("courier", 5), ("food_delivery", 5), ("ride_hailing", 3), ("truck_driver", 3),
    ("other_flexible", 2),
]  # fmt: skip
EDUCATION = [("postgraduate", 4), ("bachelor", 22), ("college", 26), ("vocational", 18), ("high_school", 16),
             ("junior", 14)]  # fmt: skip
POLITICAL = [("masses", 70), ("cpc", 12), ("cyl", 15), ("cpc_probationary", 1), ("democratic_party", 1),
             ("non_partisan", 1)]  # fmt: skip
SKILL = [("none", 55), ("grade5", 18), ("grade4", 14), ("grade3", 9), ("grade2", 3), ("grade1", 1)]
POSTS = [
    "操作工",
    "技术员",
    "质检员",
    "仓管员",
    "销售",
    "会计",
    "行政",
    "班组长",
    "设备维修",
    "工程师",
    "骑手",
    "驾驶员",
]
ETHNICITIES = [("汉族", 95), ("回族", 1), ("满族", 1), ("苗族", 1), ("壮族", 1), ("土家族", 1)]


def _weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


@dataclass(frozen=True)
class DemoWorker:
    name: str
    doc_number: str
    phone: str
    sex: str
    birth_date: date
    ethnicity: str
    education: str
    political_status: str
    hukou_type: str
    employment_form: str
    work_unit: str
    post: str
    skill_level: str
    is_model_worker: bool
    joined_on: date


class WorkerFactory:
    """Yields distinct demo workers; document numbers and mobiles never repeat within one factory."""

    def __init__(self, seed: int, today: date):
        self.rng = random.Random(seed)
        self.today = today
        self.used_ids: set[str] = set()
        self.phone_counter = self.rng.randrange(10_000_000, 20_000_000)

    def _id_number(self, birth: date, male: bool, migrant: bool) -> str:
        while True:
            region = self.rng.choice(MIGRANT_REGIONS if migrant else LOCAL_REGIONS)
            sequence = self.rng.randrange(0, 500) * 2 + (1 if male else 0)
            body = f"{region}{birth:%Y%m%d}{sequence:03d}"
            number = body + ric.calc_check_digit(body + "0")
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number

    def _phone(self) -> str:
        self.phone_counter += self.rng.randrange(1, 97)
        prefix = self.rng.choice(["135", "136", "137", "138", "139", "150", "151", "152", "158", "159", "187", "188"])
        return f"{prefix}{self.phone_counter % 100_000_000:08d}"

    def worker(self, work_unit: str) -> DemoWorker:
        rng = self.rng
        male = rng.random() < 0.55
        age_days = rng.randrange(19 * 365, 59 * 365)
        birth = self.today - timedelta(days=age_days)
        employment = _weighted(rng, EMPLOYMENT)
        migrant = rng.random() < (0.6 if employment != "standard" else 0.3)
        given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
        adult_on = birth.replace(year=birth.year + 18, day=28 if (birth.month, birth.day) == (2, 29) else birth.day)
        earliest_join = max(adult_on, self.today - timedelta(days=20 * 365))
        span = max(1, (self.today - earliest_join).days)
        return DemoWorker(
            name=_weighted(rng, SURNAMES) + given,
            doc_number=self._id_number(birth, male, migrant),
            phone=self._phone(),
            sex="M" if male else "F",
            birth_date=birth,
            ethnicity=_weighted(rng, ETHNICITIES),
            education=_weighted(rng, EDUCATION),
            political_status=_weighted(rng, POLITICAL),
            hukou_type="agricultural" if migrant else "non_agricultural",
            employment_form=employment,
            work_unit=work_unit,
            post="骑手" if employment in ("courier", "food_delivery") else rng.choice(POSTS),
            skill_level=_weighted(rng, SKILL),
            is_model_worker=rng.random() < 0.003,
            joined_on=earliest_join + timedelta(days=rng.randrange(span)),
        )
