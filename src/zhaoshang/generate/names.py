"""Synthetic but plausible names: investors, projects, clerks, phone numbers, regions.

Everything here is invented data (Chinese strings are data, not identifiers). ``NameFactory``
keeps project names and investors unique within one generated county, so that no two planned
projects collide by (investor USCC, project name) unless an anomaly plants it on purpose.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from zhaoshang.generate.uscc import ENTERPRISE, FARMER_COOP, GOVERNMENT, make_uscc

# region code -> place prefix used in company names
OUTSIDE_PROVINCE_REGIONS: dict[str, str] = {
    "310115": "上海",
    "440300": "深圳",
    "330100": "杭州",
    "320500": "苏州",
    "110105": "北京",
    "370100": "济南",
    "350200": "厦门",
    "440600": "佛山",
    "320200": "无锡",
    "330200": "宁波",
    "340100": "合肥",
    "320100": "南京",
    "420100": "武汉",
    "330700": "金华",
    "371300": "临沂",
}
INSIDE_PROVINCE_REGIONS: dict[str, str] = {
    "410100": "郑州",
    "411400": "商丘",
    "411402": "商丘",
    "411403": "商丘",
    "411421": "民权",
    "411423": "宁陵",
    "411425": "虞城",
    "411481": "永城",
    "410300": "洛阳",
    "410700": "新乡",
    "411300": "南阳",
    "410200": "开封",
}
CITY_REGION = "411400"  # the prefecture (商丘市): banks' lending branches are registered here
PROVINCE_REGION = "410000"
STATE_REGION = "100000"

BRANDS = (
    "宏达",
    "瑞丰",
    "恒通",
    "鑫源",
    "华泰",
    "金穗",
    "永盛",
    "天润",
    "嘉禾",
    "顺发",
    "博远",
    "豫丰",
    "汇通",
    "昌盛",
    "富康",
    "新宇",
    "明珠",
    "众诚",
    "和润",
    "信达",
    "百川",
    "锦绣",
    "盛世",
    "德润",
    "长青",
    "兴隆",
    "金桥",
    "春晖",
    "绿源",
    "凯旋",
    "利民",
    "万家",
    "安泰",
    "祥和",
    "聚鑫",
    "腾飞",
    "宏图",
    "佳美",
    "益农",
    "丰源",
    "华宇",
    "卓越",
    "天成",
    "金鼎",
    "银河",
    "远航",
    "正通",
    "海川",
    "泰和",
    "宝丰",
    "裕隆",
    "嘉盛",
    "康源",
    "福瑞",
    "旭日",
    "中原",
    "鼎立",
    "华诚",
    "润泽",
    "同创",
    "晨光",
    "沃土",
    "森源",
    "九洲",
    "东升",
    "昊天",
    "鸿运",
    "凯达",
    "立信",
    "龙腾",
    "美佳",
)

# sector -> (industry word in the company name, project products)
SECTOR_PRODUCTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "一产": (
        ("农业科技", "农业开发", "生态农业", "种植专业合作社", "养殖专业合作社"),
        (
            "食用菌种植基地",
            "高效设施蔬菜大棚",
            "生猪养殖",
            "肉牛养殖",
            "优质小麦种植基地",
            "中药材种植",
            "蛋鸡养殖",
            "特色水产养殖",
            "苗木花卉基地",
            "有机果蔬采摘园",
            "黄桃种植",
            "金银花种植",
            "温室育苗",
            "家庭农场",
            "肉羊养殖",
            "蔬菜冷链集配",
        ),
    ),
    "二产": (
        (
            "纺织",
            "服饰",
            "食品",
            "机械",
            "电子",
            "新材料",
            "建材",
            "木业",
            "塑业",
            "制衣",
            "面业",
            "包装",
            "电动车",
            "鞋业",
            "家具",
            "生物科技",
        ),
        (
            "纺织服装",
            "农副产品深加工",
            "面粉加工",
            "食品加工",
            "电动车配件",
            "新型墙体材料",
            "木制品加工",
            "塑料制品",
            "农机制造",
            "电子元件",
            "服装辅料",
            "制鞋",
            "包装材料",
            "有机肥",
            "棉纺",
            "针织",
            "速冻食品",
            "纸制品",
            "五金制品",
            "家具制造",
            "LED灯具",
            "线缆",
            "饲料加工",
            "休闲食品",
            "玻璃制品",
            "汽车零部件",
            "中药饮片",
            "箱包",
        ),
    ),
    "三产": (
        (
            "商贸",
            "物流",
            "置业",
            "酒店管理",
            "电子商务",
            "文化旅游",
            "餐饮管理",
            "汽车销售服务",
            "教育咨询",
            "健康管理",
        ),
        (
            "商贸物流园",
            "连锁超市",
            "电商服务中心",
            "汽车销售服务",
            "农贸市场改造",
            "商住小区",
            "星级酒店",
            "乡村旅游",
            "仓储冷链",
            "民办幼儿园",
            "康养中心",
            "建材市场",
            "餐饮连锁",
            "快递分拣中心",
            "农村电商服务站",
            "家政服务中心",
            "文化广场",
            "驾校",
            "游乐园",
        ),
    ),
}
SPECIAL_FUND_ITEMS = (
    "农村公路建设专项资金",
    "农田水利建设专项资金",
    "农村安全饮水工程资金",
    "薄弱学校改造资金",
    "养老服务设施专项资金",
    "残疾人康复中心建设资金",
    "科技计划项目资金",
    "土地整理项目资金",
    "产业扶贫专项资金",
    "文化惠民工程资金",
    "高标准农田建设资金",
    "乡镇卫生院改造资金",
    "农机购置补贴资金",
    "城镇污水处理专项资金",
    "人才培训补助资金",
    "中小企业发展专项资金",
    "农业综合开发资金",
    "计生服务站建设资金",
    "社区服务中心建设资金",
    "保障性住房专项资金",
    "退耕还林补助资金",
    "水土保持项目资金",
    "节能减排专项资金",
    "商贸流通专项资金",
    "就业创业补助资金",
    "医疗卫生能力提升资金",
    "全民健身设施资金",
    "应急广播建设资金",
    "农村危房改造资金",
    "植树造林专项资金",
    "科普示范基地资金",
    "城市管理设施资金",
    "中医药传承专项资金",
    "审计信息化建设资金",
    "质量技术监督能力建设资金",
    "市场体系建设资金",
    "农业产业化专项资金",
    "乡镇企业技改资金",
    "残疾人就业扶持资金",
    "政务信息化建设资金",
)
GRANT_AGENCIES = (
    ("河南省财政厅", PROVINCE_REGION),
    ("河南省发展和改革委员会", PROVINCE_REGION),
    ("河南省交通运输厅", PROVINCE_REGION),
    ("河南省水利厅", PROVINCE_REGION),
    ("河南省农业农村厅", PROVINCE_REGION),
    ("河南省教育厅", PROVINCE_REGION),
    ("河南省民政厅", PROVINCE_REGION),
    ("河南省科学技术厅", PROVINCE_REGION),
    ("河南省住房和城乡建设厅", PROVINCE_REGION),
    ("河南省自然资源厅", PROVINCE_REGION),
    ("河南省人力资源和社会保障厅", PROVINCE_REGION),
    ("河南省商务厅", PROVINCE_REGION),
    ("中华人民共和国财政部", STATE_REGION),
    ("国家发展和改革委员会", STATE_REGION),
)
LENDING_BANKS: dict[
    str, str
] = {  # county bank unit -> the branch that lends (registered in the city)
    "中行": "中国银行股份有限公司商丘分行",
    "农行": "中国农业银行股份有限公司商丘分行",
    "工行": "中国工商银行股份有限公司商丘分行",
    "建行": "中国建设银行股份有限公司商丘分行",
    "农商银行": "河南夏邑农村商业银行股份有限公司",
    "邮储银行": "中国邮政储蓄银行股份有限公司商丘市分行",
    "农发行": "中国农业发展银行商丘市分行",
}
LOAN_KINDS = ("流动资金贷款", "固定资产贷款", "技术改造贷款", "项目贷款", "扶贫贴息贷款")
SIGNING_EVENTS = (
    "第三届中国河南国际投资贸易洽谈会",
    "中国·商丘第三届木兰文化节暨经贸洽谈会",
    "赴沿海地区招商活动",
    "赴山东邹平考察纺织业",
    "赴重庆回龙坝考察纺织业",
)
FAIR_EVENT = "中国（夏邑）第二届儒商文化研讨暨经贸洽谈会"

SURNAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢"
GIVEN = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "霞",
    "平",
    "刚",
    "桂英",
    "建华",
    "志强",
    "海燕",
    "红梅",
    "国庆",
    "建国",
    "晓东",
    "文博",
    "春生",
    "玉兰",
    "永刚",
    "秀兰",
    "德华",
    "卫东",
    "新民",
    "丽华",
    "振宇",
    "亚楠",
)
OFFICE_PHONE_PREFIX = "0370-"


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def mobile_number(rng: random.Random) -> str:
    return rng.choice(("138", "139", "137", "150", "151", "158", "186", "187", "135")) + "".join(
        rng.choice("0123456789") for _ in range(8)
    )


@dataclass
class Investor:
    name: str
    uscc: str
    region: str
    origin: str  # 境外 / 省外 / 省内县外 / 县内


@dataclass
class NameFactory:
    """Unique project names and investors for one county."""

    rng: random.Random
    county_code: str
    county_name: str = "夏邑县"
    _names: set[str] = field(default_factory=set)
    _companies: set[str] = field(default_factory=set)
    _usccs: set[str] = field(default_factory=set)
    _special_items: list[str] = field(default_factory=list)
    _agency_usccs: dict[str, str] = field(default_factory=dict)
    _lender_usccs: dict[str, str] = field(default_factory=dict)

    def _uscc(self, region: str, prefix: str = ENTERPRISE) -> str:
        while True:
            code = make_uscc(region, self.rng, prefix)
            if code not in self._usccs:
                self._usccs.add(code)
                return code

    def _regions(self, origin: str) -> dict[str, str]:
        if origin == "县内":
            return {self.county_code: self.county_name}
        pool = OUTSIDE_PROVINCE_REGIONS if origin in ("省外", "境外") else INSIDE_PROVINCE_REGIONS
        return {k: v for k, v in pool.items() if k != self.county_code}

    def reserve_name(self, name: str) -> bool:
        """Mark ``name`` used; False if it already was."""
        if name in self._names:
            return False
        self._names.add(name)
        return True

    def company(self, sector: str, origin: str) -> tuple[Investor, str]:
        """A new investor and the brand it trades under."""
        regions = self._regions(origin)
        words = SECTOR_PRODUCTS[sector][0]
        for _ in range(200):
            region = self.rng.choice(sorted(regions))
            brand = self.rng.choice(BRANDS)
            word = self.rng.choice(words)
            suffix = (
                ""
                if "合作社" in word
                else self.rng.choice(("有限公司", "有限公司", "股份有限公司", "集团有限公司"))
            )
            name = f"{regions[region]}{'' if regions[region].endswith('县') else '市'}{brand}{word}{suffix}"
            if origin == "境外":
                name = f"{regions[region]}{brand}{word}（外商独资）有限公司"
            if name in self._companies:
                continue
            self._companies.add(name)
            prefix = FARMER_COOP if "合作社" in word else ENTERPRISE
            return Investor(name, self._uscc(region, prefix), region, origin), brand
        raise RuntimeError("company name pool exhausted")

    def project_name(self, sector: str, brand: str) -> str:
        products = SECTOR_PRODUCTS[sector][1]
        for attempt in range(200):
            product = self.rng.choice(products)
            style = self.rng.random()
            if style < 0.55:
                name = f"{brand}{product}项目"
            elif style < 0.8:
                scale = self.rng.choice((5, 10, 20, 30, 50, 100))
                unit = self.rng.choice(("万件", "万吨", "万套", "万只", "万平方米"))
                name = (
                    f"年产{scale}{unit}{product}项目"
                    if sector == "二产"
                    else f"{brand}{product}建设项目"
                )
            else:
                name = f"{brand}{product}建设项目"
            if attempt > 100:
                name = f"{brand}{product}项目（{attempt}）"
            if self.reserve_name(name):
                return name
        raise RuntimeError("project name pool exhausted")

    def special_fund(self, year: int) -> tuple[Investor, str]:
        """专项资金: a grant item (unique per county) from a provincial or state agency."""
        if not self._special_items:
            self._special_items = list(SPECIAL_FUND_ITEMS)
            self.rng.shuffle(self._special_items)
        for _ in range(len(SPECIAL_FUND_ITEMS) * 3):
            item = (
                self._special_items.pop()
                if self._special_items
                else self.rng.choice(SPECIAL_FUND_ITEMS)
            )
            name = item if item not in self._names else f"{item}（第{self.rng.randint(2, 9)}批）"
            if self.reserve_name(name):
                break
        agency, region = self.rng.choice(GRANT_AGENCIES)
        if agency not in self._agency_usccs:
            self._agency_usccs[agency] = self._uscc(region, GOVERNMENT)
        origin = "省外" if region == STATE_REGION else "省内县外"
        return Investor(agency, self._agency_usccs[agency], region, origin), name

    def loan(self, bank_unit: str) -> tuple[Investor, str]:
        """金融贷款: a loan by the city branch to a (unique) local borrower."""
        lender = LENDING_BANKS.get(bank_unit, f"{bank_unit}商丘分行")
        if lender not in self._lender_usccs:
            self._lender_usccs[lender] = self._uscc(CITY_REGION)
        for _ in range(200):
            borrower = f"{self.county_name}{self.rng.choice(BRANDS)}{self.rng.choice(SECTOR_PRODUCTS['二产'][0])}有限公司"
            name = f"{borrower}{self.rng.choice(LOAN_KINDS)}"
            if self.reserve_name(name):
                return Investor(lender, self._lender_usccs[lender], CITY_REGION, "省内县外"), name
        raise RuntimeError("loan name pool exhausted")

    def local_company(self, sector: str) -> tuple[Investor, str]:
        """An investor registered in the county itself (for LOCAL_AS_OUTSIDE plants)."""
        return self.company(sector, "县内")
