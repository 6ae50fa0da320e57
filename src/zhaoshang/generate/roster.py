"""The county's reporting units (units.csv roster): names, types, aliases and generation weights.

The roster follows the seed: 24 townships of Xiayi county, the county departments that the
half-year summary names (plus 信访局, one of its six blank units), the county's banks and the
units stationed in the county. Weights steer how many projects a unit brings in; they are
generation knobs, not reference data.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

TOWNSHIP = "乡镇"
DEPARTMENT = "县直单位"
BANK = "金融机构"
STATIONED = "驻县单位"

TOWNSHIPS = (
    "城关镇",
    "杨集镇",
    "骆集乡",
    "会亭镇",
    "马头镇",
    "济阳镇",
    "李集镇",
    "车站镇",
    "业庙乡",
    "中峰乡",
    "桑堌乡",
    "韩道口镇",
    "何营乡",
    "王集乡",
    "太平镇",
    "罗庄乡",
    "北岭镇",
    "郭店乡",
    "孔庄乡",
    "刘店集乡",
    "胡桥乡",
    "歧河乡",
    "火店乡",
    "曹集乡",
)
BIG_TOWNSHIPS = {
    "城关镇": 1.6,
    "济阳镇": 1.5,
    "骆集乡": 1.4,
    "会亭镇": 1.4,
    "马头镇": 1.3,
    "杨集镇": 1.2,
    "李集镇": 1.2,
    "郭店乡": 1.1,
    "罗庄乡": 1.1,
    "火店乡": 1.1,
}
DEPARTMENTS = (
    "民政局",
    "医药局",
    "农委",
    "劳动局",
    "商业局",
    "计生协",
    "纪检监察",
    "农业局",
    "教体局",
    "乡企局",
    "人事局",
    "技监局",
    "政府办",
    "考评办",
    "财政局",
    "城管局",
    "农机局",
    "财委",
    "政研室",
    "残联",
    "体改委",
    "建设局",
    "国土局",
    "招商局",
    "审计局",
    "经贸委",
    "科协",
    "计生委",
    "信访局",
)
SPECIAL_FUND_DEPARTMENTS = (
    "财政局",
    "民政局",
    "教体局",
    "农业局",
    "农委",
    "建设局",
    "国土局",
    "残联",
    "科协",
    "计生委",
    "劳动局",
    "医药局",
    "农机局",
    "城管局",
    "经贸委",
    "乡企局",
    "财委",
    "人事局",
)
AGRICULTURE_DEPARTMENTS = ("农业局", "农委", "农机局")
BANKS: dict[str, tuple[str, ...]] = {
    "中行": ("中国银行夏邑支行", "中国银行"),
    "农行": ("中国农业银行夏邑县支行", "农业银行"),
    "工行": ("中国工商银行夏邑支行", "工商银行"),
    "建行": ("中国建设银行夏邑支行", "建设银行"),
    "农商银行": ("夏邑农商银行", "河南夏邑农村商业银行"),
    "邮储银行": ("中国邮政储蓄银行夏邑县支行", "邮政储蓄银行"),
    "农发行": ("中国农业发展银行夏邑县支行", "农业发展银行"),
}
STATIONED_UNITS: dict[str, tuple[str, ...]] = {
    "烟草局": ("夏邑县烟草专卖局", "烟草专卖局"),
    "盐务局": ("夏邑县盐务管理局", "盐业公司"),
    "财险公司": ("人保财险夏邑支公司", "财产保险公司"),
    "供电公司": ("国网夏邑县供电公司", "供电局"),
    "电信公司": ("中国电信夏邑分公司", "电信局"),
    "移动公司": ("中国移动夏邑分公司", "移动夏邑分公司"),
}
# 完成任务较好的单位 named by the seed; they score >= 100 in the seed scenario.
SEED_GOOD_UNITS = (
    "济阳镇",
    "骆集乡",
    "会亭镇",
    "郭店乡",
    "罗庄乡",
    "火店乡",
    "李集镇",
    "民政局",
    "医药局",
    "农委",
    "劳动局",
    "商业局",
    "计生协",
    "纪检监察",
    "农业局",
    "教体局",
    "乡企局",
    "人事局",
    "技监局",
    "政府办",
    "考评办",
    "财政局",
    "城管局",
    "农机局",
    "财委",
    "政研室",
    "残联",
    "体改委",
    "建设局",
    "国土局",
    "招商局",
    "审计局",
    "经贸委",
    "农发行",
    "科协",
    "计生委",
)
# 至今尚有……6个单位招商引资依然空白
SEED_BLANK_UNITS = ("烟草局", "盐务局", "信访局", "中行", "农行", "财险公司")
# How the blank units behave (a choice the seed leaves open): half send the empty form every
# month (so they are blank but not missing), half send nothing (blank and missing all year).
BLANK_SENDS_EMPTY_FORM = ("烟草局", "信访局", "财险公司")


@dataclass(frozen=True)
class UnitSpec:
    unit_name: str
    unit_type: str
    aliases: tuple[str, ...]
    weight: float = 1.0
    sector_weights: dict[str, float] = field(default_factory=dict, hash=False, compare=False)
    good: bool = False  # the seed names it among the units that did well

    @property
    def is_bank(self) -> bool:
        return self.unit_type == BANK


def _township_aliases(name: str, county: str) -> tuple[str, ...]:
    short = name[:-1] if name[-1] in "镇乡" else name
    return (short, f"{county}{name}", f"{name}人民政府")


def _department_aliases(name: str, county: str) -> tuple[str, ...]:
    return (f"县{name}", f"{county}{name}")


def county_roster(rng: random.Random, county: str = "夏邑县", prefix: str = "") -> list[UnitSpec]:
    """The ~66 units of one county. ``prefix`` makes names unique in a multi-county inbox."""
    units: list[UnitSpec] = []

    def add(
        name: str,
        unit_type: str,
        aliases: tuple[str, ...],
        weight: float,
        sectors: dict[str, float],
    ) -> None:
        units.append(
            UnitSpec(
                prefix + name,
                unit_type,
                tuple(prefix + a for a in aliases),
                weight,
                sectors,
                name in SEED_GOOD_UNITS,
            )
        )

    for name in TOWNSHIPS:
        weight = BIG_TOWNSHIPS.get(name, round(rng.uniform(0.6, 1.0), 2))
        add(
            name,
            TOWNSHIP,
            _township_aliases(name, county),
            weight,
            {"一产": 0.09, "二产": 0.72, "三产": 0.19},
        )
    for name in DEPARTMENTS:
        sectors = {"二产": 0.45, "三产": 0.35}
        if name in SPECIAL_FUND_DEPARTMENTS:
            sectors["专项资金"] = 1.0
        if name in AGRICULTURE_DEPARTMENTS:
            sectors["一产"] = 0.5
        add(name, DEPARTMENT, _department_aliases(name, county), 0.25, sectors)
    for name, aliases in BANKS.items():
        add(name, BANK, aliases, 1.0, {"金融贷款": 1.0})
    for name, aliases in STATIONED_UNITS.items():
        add(name, STATIONED, aliases, 0.2, {"三产": 1.0})
    return units


SMALL_UNITS = (
    "济阳镇",
    "骆集乡",
    "会亭镇",
    "李集镇",
    "城关镇",
    "财政局",
    "工行",
    "民政局",
    "火店乡",
    "杨集镇",
    "建设局",
    "农商银行",
    "马头镇",
    "供电公司",
    "烟草局",
    "信访局",
)


def contact_email(unit_name: str, domain: str = "units.zhaoshang.example") -> str:
    """A stable, ASCII-only invented address for a unit (its receipts go there)."""
    import hashlib

    return f"u{hashlib.sha256(unit_name.encode()).hexdigest()[:10]}@{domain}"
