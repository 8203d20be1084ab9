"""A deterministic, realistic city federation for the demo and for tests and benchmarks that need a big tree.

The shape follows the Suzhou reports: a city federation, its county-level federations (real district names and
GB/T 2260 codes), towns and streets, communities and regional federations, and thousands of grassroots unions in
plausible enterprises, with employers with and without a union. Every name, code and number is generated.
"""

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from stdnum.cn import uscc

from gonghui.orgs.models import OrgType
from gonghui.orgs.services import OrgSpec

ROOT = ("苏州市总工会", "SZ", "320500")
DISTRICTS = [
    ("姑苏区", "GS", "320508", "街道"),
    ("吴中区", "WZ", "320506", "街道"),
    ("相城区", "XC", "320507", "街道"),
    ("吴江区", "WJ", "320509", "镇"),
    ("虎丘区", "HQ", "320505", "街道"),
    ("昆山市", "KS", "320583", "镇"),
    ("太仓市", "TC", "320585", "镇"),
    ("常熟市", "CS", "320581", "镇"),
    ("张家港市", "ZJG", "320582", "镇"),
]
PLACE_CHARS = (
    "金枫桃横望胜浒通阳澄湖平江双塔沧浪虎丘娄葑木渎甪直临香光福越溪元和太黄埭"
    "渭塘北桥亭陆巴城周庄锦淀花千灯张浦沙璜泾浏河浮沿凤凰塘市乐余南丰锦丰杨舍"
)
TRADE_WORDS = [
    "恒瑞",
    "华达",
    "新宇",
    "博远",
    "金诚",
    "中科",
    "天成",
    "苏鑫",
    "鼎盛",
    "瑞丰",
    "宏图",
    "众联",
    "华信",
    "精工",
    "海川",
    "东方",
    "嘉禾",
    "汇通",
    "协鑫",
    "永昌",
    "润达",
    "长城",
    "飞腾",
    "锦程",
    "安泰",
    "明珠",
]
BUSINESSES = [
    ("精密机械", "C"),
    ("电子科技", "C"),
    ("纺织", "C"),
    ("新材料", "C"),
    ("汽车零部件", "C"),
    ("光电", "C"),
    ("物流", "G"),
    ("快递服务", "G"),
    ("建设工程", "E"),
    ("餐饮管理", "H"),
    ("商贸", "F"),
    ("软件", "I"),
    ("医疗器械", "C"),
    ("食品", "C"),
    ("物业管理", "K"),
    ("保安服务", "L"),
    ("环境科技", "N"),
    ("酒店管理", "H"),
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红梅志文斌海燕"
JOINT_AREAS = ["商业街", "科技园", "创业园", "商贸城", "工业坊", "农贸市场", "物流园"]
MOBILE_PREFIXES = ["135", "136", "137", "138", "139", "150", "151", "152", "186", "187", "188", "189"]


@dataclass
class Federation:
    specs: list[OrgSpec] = field(default_factory=list)
    employers: list[dict] = field(default_factory=list)  # town_code, union_code or None, name, uscc, staff, industry


class _Names:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()

    def unique(self, make) -> str:
        for _ in range(1000):
            name = make()
            if name not in self.used:
                self.used.add(name)
                return name
        raise RuntimeError("name space exhausted")

    def place(self) -> str:
        return self.unique(lambda: "".join(self.rng.sample(PLACE_CHARS, 2)))

    def company(self, city: str) -> tuple[str, str]:
        business, industry = self.rng.choice(BUSINESSES)
        name = self.unique(
            lambda: f"{city}{self.rng.choice(TRADE_WORDS)}{self.rng.choice(PLACE_CHARS)}{business}有限公司"
        )
        return name, industry

    def person(self) -> str:
        return self.rng.choice(SURNAMES) + "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2))))

    def mobile(self) -> str:
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"


def make_uscc(rng: random.Random, *, region: str, kind: str, seen: set[str]) -> str:
    """A valid 统一社会信用代码: `kind` is '91' for a company, '81' for a trade union."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    while True:
        body = kind + region + "".join(rng.choice("0123456789") for _ in range(8)) + rng.choice(alphabet)
        code = body + uscc.calc_check_digit(body + "0")
        if code not in seen:
            seen.add(code)
            return code


def _term(rng: random.Random, founded: date, today: date) -> date:
    """Committee terms run five years; most unions are on time, some are overdue for 换届."""
    end = founded.replace(year=founded.year + 5)
    while end < today - timedelta(days=rng.choice((0, 0, 0, 0, 200))):
        end = end.replace(year=end.year + 5)
    return end


def build_federation(*, orgs: int = 3000, seed: int = 2023, today: date | None = None) -> Federation:
    rng = random.Random(seed)
    today = today or date(2026, 1, 1)
    names = _Names(rng)
    usccs: set[str] = set()
    fed = Federation()
    # Fixed upper levels, then everything left of the budget becomes grassroots unions.
    towns_per_district = 6 if orgs >= 500 else 2
    communities_per_town = 3 if orgs >= 500 else 1

    def add(parent: str, name: str, code: str, org_type: str, region: str, *, union_uscc: bool = False):
        founded = date(rng.randint(1985, 2023), rng.randint(1, 12), rng.randint(1, 28))
        fed.specs.append(
            OrgSpec(
                parent_code=parent,
                name=name,
                code=code,
                org_type=org_type,
                region_code=region,
                uscc=make_uscc(rng, region=region, kind="81", seen=usccs) if union_uscc else None,
                founded_on=founded,
                term_ends_on=_term(rng, founded, today),
                address=f"江苏省苏州市{name[:2]}路{rng.randint(1, 999)}号",
                contact_person=names.person(),
                contact_phone=names.mobile(),
            )
        )

    root_name, root_code, root_region = ROOT
    add(root_code, "苏州工业园区总工会", f"{root_code}-SIP", OrgType.PARK, root_region)
    add(root_code, "苏州市教育工会", f"{root_code}-EDU", OrgType.INDUSTRY, root_region)
    towns: list[tuple[str, str, str]] = []  # (code, city name for companies, region)
    regionals: list[tuple[str, str, str, str, str]] = []  # (code, town code, city name, region, place name)
    communities: list[tuple[str, str, str]] = []
    for district, short, region, town_word in DISTRICTS:
        dcode = f"{root_code}-{short}"
        add(root_code, f"{district}总工会", dcode, OrgType.COUNTY, region)
        add(dcode, f"{district}建筑行业工会联合会", f"{dcode}-BLD", OrgType.INDUSTRY, region)
        for t in range(1, towns_per_district + 1):
            tcode = f"{dcode}-T{t:02d}"
            town_name = names.place()
            add(dcode, f"{district}{town_name}{town_word}总工会", tcode, OrgType.TOWN, region)
            towns.append((tcode, district[:2], region))
            add(
                tcode,
                f"{town_name}{town_word}商务楼宇区域工会联合会",
                f"{tcode}-R1",
                OrgType.REGIONAL,
                region,
            )
            regionals.append((f"{tcode}-R1", tcode, district[:2], region, town_name))
            for c in range(1, communities_per_town + 1):
                ccode = f"{tcode}-C{c}"
                kind = "村" if town_word == "镇" else "社区"
                add(tcode, f"{names.place()}{kind}工会", ccode, OrgType.COMMUNITY, region)
                communities.append((ccode, district[:2], region))
    sip_towns = [(f"{root_code}-SIP", "苏州", root_region)]
    remaining = max(0, orgs - 1 - len(fed.specs))
    # Each building federation holds a joint union of the small firms in its building (below), so that no union in
    # the demo stands for nobody; it is taken from the budget when the budget allows.
    building_unions = regionals if remaining >= 4 * len(regionals) else []
    remaining -= len(building_unions)
    serial: dict[str, int] = {}
    homes = towns + sip_towns
    for i in range(remaining):
        joint = i % 10 == 9  # one in ten is a joint union of small firms in a community
        if joint:
            parent, city, region = communities[i // 10 % len(communities)]
            town_code = parent.rsplit("-", 1)[0]
        else:
            parent, city, region = homes[i % len(homes)]
            town_code = parent
        serial[parent] = serial.get(parent, 0) + 1
        code = f"{parent}-{'J' if joint else 'E'}{serial[parent]:03d}"
        if joint:
            union_name = names.unique(
                lambda: f"{''.join(rng.sample(PLACE_CHARS, 2))}{rng.choice(JOINT_AREAS)}小微企业联合工会委员会"
            )
            add(parent, union_name, code, OrgType.JOINT_GRASSROOTS, region, union_uscc=True)
            for _ in range(rng.randint(3, 6)):
                company, industry = names.company(city)
                fed.employers.append(
                    dict(
                        town=town_code,
                        union=code,
                        name=company,
                        staff=rng.randint(3, 24),
                        industry=industry,
                        uscc=make_uscc(rng, region=region, kind="91", seen=usccs),
                    )
                )
        else:
            company, industry = names.company(city)
            add(parent, f"{company}工会委员会", code, OrgType.GRASSROOTS, region, union_uscc=True)
            fed.employers.append(
                dict(
                    town=town_code,
                    union=code,
                    name=company,
                    staff=int(rng.lognormvariate(4.6, 1.0)) + 25,
                    industry=industry,
                    uscc=make_uscc(rng, region=region, kind="91", seen=usccs),
                )
            )
    # Employers without a union: mostly small, some above 25 and 100 staff (建会 targets).
    for i in range(max(len(fed.employers) // 4, len(homes))):
        town_code, city, region = homes[i % len(homes)]
        company, industry = names.company(city)
        fed.employers.append(
            dict(
                town=town_code,
                union=None,
                name=company,
                staff=int(rng.lognormvariate(3.4, 1.1)) + 5,
                industry=industry,
                uscc=make_uscc(rng, region=region, kind="91", seen=usccs),
            )
        )
    for code, town_code, city, region, place in building_unions:
        add(
            code,
            f"{place}商务楼宇小微企业联合工会委员会",
            f"{code}-J001",
            OrgType.JOINT_GRASSROOTS,
            region,
            union_uscc=True,
        )
        for _ in range(rng.randint(3, 5)):
            company, industry = names.company(city)
            fed.employers.append(
                dict(
                    town=town_code,
                    union=f"{code}-J001",
                    name=company,
                    staff=rng.randint(5, 40),
                    industry=industry,
                    uscc=make_uscc(rng, region=region, kind="91", seen=usccs),
                )
            )
    return fed
