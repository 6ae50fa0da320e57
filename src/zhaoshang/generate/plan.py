"""The planned projects of a scenario: who brought in what, when it was signed, when money arrived.

Two ways to plan a block of months:

* ``plan_exact`` hits given figures exactly (the seed's half-year table: projects and funds per
  sector, projects per size band, none at or above the major-project threshold);
* ``plan_random`` draws projects at realistic rates (for the small, anomaly and benchmark scenarios).

A ``Project`` carries its funds per (year, month). Rows are derived from it month by month
(``reports.py``), so cumulative funds are a running total by construction. Every amount is a
``Decimal`` in 万元: integers with a few .5/.2/.8 decimals, as clerks type them.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from zhaoshang import reference
from zhaoshang.generate.names import (
    FAIR_EVENT,
    SIGNING_EVENTS,
    Investor,
    NameFactory,
    mobile_number,
    person_name,
)
from zhaoshang.generate.roster import BANK, UnitSpec

ZERO = Decimal(0)
LOAN = "金融贷款"
SPECIAL = "专项资金"
NEW = "新引进"
CONTINUING = "续建"
Period = tuple[int, int]


@dataclass
class Tag:
    """An anomaly (``category='anomaly'``) or clean look-alike planted on a project or row."""

    category: str  # anomaly | lookalike
    rule: str
    detail: str
    year: int | None = None  # only the rows of this year carry it (None: every row)


@dataclass
class Project:
    pid: int
    unit: str
    sector: str
    name: str
    investor: Investor
    signed: date
    total_investment: Decimal | None
    contract_amount: Decimal | None = None
    prior_funds: Decimal = (
        ZERO  # arrived before the first planned month (projects from earlier years)
    )
    funds: dict[Period, Decimal] = field(default_factory=dict)
    last_year: int = 0  # the last year whose reports list it
    high_tech: bool = False
    signing_event: str | None = None
    contact: str = ""
    remarks: str | None = None
    credit_share: Decimal | None = None
    tags: list[Tag] = field(default_factory=list)
    band: str | None = None

    @property
    def is_loan(self) -> bool:
        return self.sector == LOAN

    @property
    def investment(self) -> Decimal:
        """计划总投资 of an investment project (only loans have none)."""
        if self.total_investment is None:
            raise ValueError(f"project {self.pid} ({self.sector}) has no total investment")
        return self.total_investment

    @property
    def band_label(self) -> str:
        if self.band is None:
            raise ValueError(f"project {self.pid} has no size band")
        return self.band

    @property
    def ledger_id(self) -> str:
        return f"XY{self.signed.year}-{self.pid:05d}"

    def kind(self, year: int) -> str:
        return NEW if year == self.signed.year else CONTINUING

    def appears_in(self, year: int, month: int) -> bool:
        return (self.signed.year, self.signed.month) <= (year, month) and year <= self.last_year

    def cumulative(self, year: int, month: int) -> Decimal:
        return self.prior_funds + sum(
            (v for p, v in self.funds.items() if p <= (year, month)), ZERO
        )

    def lifetime_funds(self) -> Decimal:
        return self.prior_funds + sum(self.funds.values(), ZERO)


def apportion(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder, stable)."""
    if total == 0 or not weights:
        return [0] * len(weights)
    s = sum(weights)
    if s <= 0:
        weights, s = [1.0] * len(weights), float(len(weights))
    raw = [total * w / s for w in weights]
    out = [math.floor(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - out[i]), i))
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


@dataclass(frozen=True)
class Band:
    label: str
    lower: int
    upper: int | None


def bands() -> list[Band]:
    rows = sorted(reference.size_bands(), key=lambda r: int(r["sort_order"]))
    return [
        Band(
            r["size_band"],
            int(float(r["lower_wan"])),
            int(float(r["upper_wan"])) if r["upper_wan"] else None,
        )
        for r in rows
    ]


def major_threshold() -> int:
    return int(float(reference.rule_parameters()["major_project_min_wan"]))


def counting_sectors() -> list[str]:
    return [
        r["sector"]
        for r in sorted(reference.sectors(), key=lambda r: int(r["sort_order"]))
        if r["counts_projects"] == "true"
    ]


@dataclass
class Planner:
    """Creates projects for one county; holds the rng, the name factory and the project list."""

    rng: random.Random
    names: NameFactory
    county_code: str
    projects: list[Project] = field(default_factory=list)

    def _pid(self) -> int:
        return len(self.projects) + 1

    def add(
        self,
        unit: UnitSpec | str,
        sector: str,
        signed: date,
        total_investment: Decimal | None,
        investor: Investor | None = None,
        name: str | None = None,
        origin: str | None = None,
    ) -> Project:
        unit_name = unit if isinstance(unit, str) else unit.unit_name
        if investor is None or name is None:
            if sector == SPECIAL:
                investor, name = self.names.special_fund(signed.year)
            elif sector == LOAN:
                investor, name = self.names.loan(unit_name)
            else:
                investor, brand = self.names.company(sector, origin or self._origin())
                name = self.names.project_name(sector, brand)
        project = Project(
            pid=self._pid(),
            unit=unit_name,
            sector=sector,
            name=name,
            investor=investor,
            signed=signed,
            total_investment=total_investment,
            last_year=signed.year,
            high_tech=sector == "二产" and self.rng.random() < 0.12,
            contact=f"{person_name(self.rng)} {mobile_number(self.rng)}",
        )
        self.projects.append(project)
        return project

    def _origin(self) -> str:
        return "省外" if self.rng.random() < 0.62 else "省内县外"

    def signed_date(self, year: int, month: int) -> date:
        return date(year, month, self.rng.randint(1, 28))

    def investment_in(self, band: Band, cap: int) -> Decimal:
        lower = max(band.lower, 20)
        upper = min(band.upper if band.upper is not None else cap, cap)
        value = lower + int((upper - 1 - lower) * self.rng.random() ** 1.7)
        return Decimal(value)


# ---------------------------------------------------------------------------- spreading funds


def spread(amount: Decimal, slots: list[Period], rng: random.Random) -> dict[Period, Decimal]:
    """Split ``amount`` over ``slots`` (months): integer parts, some months zero, decimals kept."""
    out = dict.fromkeys(slots, ZERO)
    if amount <= 0 or not slots:
        return out
    whole = int(amount)
    frac = amount - whole
    n = len(slots)
    k = rng.randint(1, n) if n > 1 else 1
    active = sorted(rng.sample(range(n), k))
    if whole < len(active):
        active = active[-max(1, whole) :]
    parts = apportion(whole, [rng.random() + 0.2 for _ in active])
    for idx, part in zip(active, parts, strict=False):
        out[slots[idx]] += Decimal(part)
    out[slots[active[-1]]] += frac
    return out


def months_from(year: int, month: int, last_month: int) -> list[Period]:
    return [(year, m) for m in range(month, last_month + 1)]


def fit_amounts(total: int, caps: list[int], rng: random.Random) -> list[int]:
    """Integers summing to ``total`` with ``0 <= a[i] <= caps[i]`` (requires sum(caps) >= total)."""
    if sum(caps) < total:
        raise ValueError("capacity below total")
    weights = [c * rng.uniform(0.3, 1.0) for c in caps]
    s = sum(weights) or 1.0
    alloc = [min(c, math.floor(total * w / s)) for c, w in zip(caps, weights, strict=False)]
    order = list(range(len(caps)))
    rng.shuffle(order)
    remainder = total - sum(alloc)
    while remainder > 0:
        step = max(1, remainder // max(1, len(order)))
        for i in order:
            room = caps[i] - alloc[i]
            if room <= 0:
                continue
            add = min(room, step, remainder)
            alloc[i] += add
            remainder -= add
            if remainder == 0:
                break
    return alloc


def add_decimal_pairs(
    amounts: list[Decimal], caps: list[Decimal], rng: random.Random, pairs: int
) -> None:
    """Move a .5/.2/.8 between pairs of amounts: a few decimals, the sum unchanged."""
    for _ in range(pairs):
        delta = Decimal(rng.choice(("0.5", "0.5", "0.2", "0.8")))
        ups = [
            i
            for i, (a, c) in enumerate(zip(amounts, caps, strict=False))
            if a + delta <= c and a >= 1
        ]
        downs = [i for i, a in enumerate(amounts) if a - delta >= 1]
        if not ups or not downs:
            return
        i = rng.choice(ups)
        j = rng.choice([d for d in downs if d != i] or [i])
        if i == j:
            return
        amounts[i] += delta
        amounts[j] -= delta


# ---------------------------------------------------------------------------- the exact block


@dataclass(frozen=True)
class SeedTable:
    """Year-to-date figures a block of months must produce exactly (the seed's 上半年 table)."""

    projects: dict[str, int]  # counting sector -> new projects
    funds: dict[str, int]  # sector (incl. 金融贷款) -> 万元
    band_projects: dict[str, int]  # size band -> new projects
    blank_units: tuple[str, ...]
    fair_month: int = 3
    fair_day: int = 16


def _allocate_counts(
    units: list[UnitSpec], table: SeedTable, rng: random.Random
) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for sector, n in table.projects.items():
        eligible = [u for u in units if sector in u.sector_weights]
        weights = [u.weight * u.sector_weights[sector] * rng.uniform(0.8, 1.2) for u in eligible]
        for u, c in zip(eligible, apportion(n, weights), strict=False):
            counts[(u.unit_name, sector)] = c
    # every non-blank unit that brings projects gets at least one
    for u in units:
        if u.is_bank or sum(counts.get((u.unit_name, s), 0) for s in u.sector_weights) > 0:
            continue
        sector = max(
            (s for s in u.sector_weights if s in table.projects), key=lambda s: table.projects[s]
        )
        donor = max((k for k in counts if k[1] == sector), key=lambda k: counts[k])
        counts[donor] -= 1
        counts[(u.unit_name, sector)] = counts.get((u.unit_name, sector), 0) + 1
    return counts


def _band_matrix(table: SeedTable) -> dict[str, dict[str, int]]:
    """sector -> band -> count: bands above the smallest split by the sectors' funds shares."""
    band_list = bands()
    sectors = list(table.projects)
    shares = [float(table.funds[s]) for s in sectors]
    matrix: dict[str, dict[str, int]] = {s: {} for s in sectors}
    for band in band_list[1:]:
        for s, c in zip(sectors, apportion(table.band_projects[band.label], shares), strict=False):
            matrix[s][band.label] = c
    smallest = band_list[0].label
    for s in sectors:
        matrix[s][smallest] = table.projects[s] - sum(matrix[s].values())
        if matrix[s][smallest] < 0:
            raise ValueError(f"size bands cannot be split over sector {s}")
    if sum(matrix[s][smallest] for s in sectors) != table.band_projects[smallest]:
        raise ValueError("size-band counts do not add up to the sector counts")
    return matrix


def _sign_month(rng: random.Random, months: list[int], fair_month: int) -> int:
    weights = [2.2 if m == fair_month else 1.0 for m in months]
    return rng.choices(months, weights)[0]


def plan_exact(
    planner: Planner, units: list[UnitSpec], table: SeedTable, year: int, months: list[int]
) -> list[Project]:
    """Projects signed in ``months`` of ``year`` whose year-to-date figures equal ``table``."""
    rng = planner.rng
    active = [u for u in units if u.unit_name not in table.blank_units]
    by_name = {u.unit_name: u for u in active}
    counts = _allocate_counts([u for u in active if not u.is_bank], table, rng)
    matrix = _band_matrix(table)
    band_by_label = {b.label: b for b in bands()}
    cap = major_threshold() - 1
    last = months[-1]
    created: list[Project] = []
    for sector in table.projects:
        members = [(unit, n) for (unit, s), n in sorted(counts.items()) if s == sector and n > 0]
        labels = [label for label, n in matrix[sector].items() for _ in range(n)]
        rng.shuffle(labels)
        projects: list[Project] = []
        for unit, n in members:
            for _ in range(n):
                month = _sign_month(rng, months, table.fair_month)
                signed = planner.signed_date(year, month)
                p = planner.add(by_name[unit], sector, signed, None)
                if month == table.fair_month and rng.random() < 0.6:
                    p.signed = date(year, month, table.fair_day)
                    p.signing_event = FAIR_EVENT
                elif rng.random() < 0.15:
                    p.signing_event = rng.choice(SIGNING_EVENTS)
                p.band = labels.pop()
                p.total_investment = planner.investment_in(band_by_label[p.band], cap)
                projects.append(p)
        _fund_sector(projects, table.funds[sector], band_by_label, cap, rng)
        created.extend(projects)
    for p in created:
        p.funds = spread(p.funds.pop((0, 0), ZERO), months_from(year, p.signed.month, last), rng)
    created.extend(_plan_loans_exact(planner, active, table.funds.get(LOAN, 0), year, months))
    return created


def _fund_sector(
    projects: list[Project],
    total: int,
    band_by_label: dict[str, Band],
    cap: int,
    rng: random.Random,
) -> None:
    """Give each project its half-year funds (stored under key (0, 0) until spread)."""

    def caps() -> list[int]:
        return [int(p.investment * Decimal("0.9")) for p in projects]

    guard = 0
    while sum(caps()) < total * 1.12 and guard < 100000:  # raise investments within their bands
        guard += 1
        p = rng.choice(projects)
        band = band_by_label[p.band_label]
        upper = min(band.upper if band.upper is not None else cap, cap) - 1
        if p.investment < upper:
            p.total_investment = min(
                Decimal(upper), p.investment + Decimal(max(1, int(upper * 0.1)))
            )
    zero_ok = [i for i, p in enumerate(projects) if rng.random() < 0.05]
    limits = [0 if i in zero_ok else c for i, c in enumerate(caps())]
    if sum(limits) < total:
        limits = caps()
    amounts = [Decimal(a) for a in fit_amounts(total, limits, rng)]
    add_decimal_pairs(amounts, [Decimal(c) for c in limits], rng, max(1, len(projects) // 40))
    for p, a in zip(projects, amounts, strict=False):
        p.funds = {(0, 0): a}
    for p in rng.sample(projects, max(1, len(projects) // 30)):  # a few investments with decimals
        band = band_by_label[p.band_label]
        upper = band.upper if band.upper is not None else cap
        if p.investment + Decimal("0.5") < upper:
            p.total_investment = p.investment + Decimal("0.5")


def _plan_loans_exact(
    planner: Planner, units: list[UnitSpec], total: int, year: int, months: list[int]
) -> list[Project]:
    banks = [u for u in units if u.unit_type == BANK]
    if not banks or total <= 0:
        return []
    rng = planner.rng
    per_bank = apportion(total, [rng.uniform(0.5, 1.5) for _ in banks])
    loans = []
    for bank, amount in zip(banks, per_bank, strict=False):
        n = max(1, min(4, amount // 400))
        parts = fit_amounts(amount, [amount] * n, rng) if n > 1 else [amount]
        for part in parts:
            if part <= 0:
                continue
            p = planner.add(
                bank, LOAN, planner.signed_date(year, rng.choice(months)), Decimal(part)
            )
            p.funds = {
                (year, m): (Decimal(part) if m == p.signed.month else ZERO)
                for m in range(p.signed.month, months[-1] + 1)
            }
            loans.append(p)
    return loans


# ---------------------------------------------------------------------------- random blocks

PROJECTS_PER_WEIGHT_MONTH = 2.2
LOANS_PER_BANK_MONTH = 0.5


def _band_weights(table_bands: dict[str, int] | None) -> dict[str, float]:
    if table_bands:
        return {k: float(v) for k, v in table_bands.items()}
    return {b.label: w for b, w in zip(bands(), (75.0, 11.0, 9.0, 5.0), strict=False)}


def plan_random(
    planner: Planner,
    units: list[UnitSpec],
    year: int,
    sign_months: list[int],
    fund_until: int,
    sectors: set[str] | None = None,
    rate: float = 1.0,
    major_share: float = 0.01,
    band_weights: dict[str, int] | None = None,
) -> list[Project]:
    """Projects signed in ``sign_months`` at realistic rates, funds spread up to month ``fund_until``."""
    rng = planner.rng
    weights = _band_weights(band_weights)
    band_by_label = {b.label: b for b in bands()}
    cap = major_threshold() - 1
    created: list[Project] = []
    for unit in units:
        if unit.is_bank:
            if sectors is None or LOAN in sectors:
                created.extend(_random_loans(planner, unit, year, sign_months, fund_until, rate))
            continue
        sector_pool = {
            s: w for s, w in unit.sector_weights.items() if sectors is None or s in sectors
        }
        if not sector_pool:
            continue
        lam = (
            unit.weight
            * sum(sector_pool.values())
            * PROJECTS_PER_WEIGHT_MONTH
            * len(sign_months)
            * rate
        )
        for _ in range(poisson(rng, lam)):
            sector = rng.choices(list(sector_pool), list(sector_pool.values()))[0]
            month = rng.choice(sign_months)
            p = planner.add(unit, sector, planner.signed_date(year, month), None)
            p.band = rng.choices(list(weights), list(weights.values()))[0]
            top = cap if rng.random() > major_share else 12000
            p.total_investment = planner.investment_in(band_by_label[p.band], top)
            if rng.random() < 0.03:
                p.total_investment += Decimal("0.5")
            if rng.random() < 0.1:
                p.signing_event = rng.choice(SIGNING_EVENTS)
            share = Decimal(rng.uniform(0.15, 0.85)) if rng.random() > 0.06 else ZERO
            amount = Decimal(int(p.total_investment * share * Decimal("0.9")))
            if amount > 2 and rng.random() < 0.05:
                amount += Decimal("0.5")
            p.funds = spread(amount, months_from(year, month, fund_until), rng)
            created.append(p)
    return created


def _random_loans(
    planner: Planner,
    bank: UnitSpec,
    year: int,
    sign_months: list[int],
    fund_until: int,
    rate: float,
) -> list[Project]:
    rng = planner.rng
    loans = []
    for _ in range(poisson(rng, LOANS_PER_BANK_MONTH * len(sign_months) * rate)):
        amount = Decimal(rng.randint(100, 1800))
        p = planner.add(bank, LOAN, planner.signed_date(year, rng.choice(sign_months)), amount)
        p.funds = {
            (year, m): (amount if m == p.signed.month else ZERO)
            for m in range(p.signed.month, fund_until + 1)
        }
        loans.append(p)
    return loans


def plan_prior_continuing(
    planner: Planner,
    units: list[UnitSpec],
    count: int,
    signed_year: int,
    year: int,
    fund_until: int,
) -> list[Project]:
    """Projects introduced in ``signed_year`` (before the inbox) that report as 续建 in ``year``."""
    rng = planner.rng
    pool = [
        u
        for u in units
        if not u.is_bank and any(s in u.sector_weights for s in ("二产", "三产", "一产"))
    ]
    band_list = bands()
    created = []
    for _ in range(count):
        unit = rng.choices(pool, [u.weight for u in pool])[0]
        sector = rng.choices(["一产", "二产", "三产"], [0.1, 0.65, 0.25])[0]
        if sector not in unit.sector_weights:
            sector = max(unit.sector_weights, key=lambda s: unit.sector_weights[s])
        p = planner.add(unit, sector, planner.signed_date(signed_year, rng.randint(1, 12)), None)
        p.band = rng.choices([b.label for b in band_list], [50, 25, 15, 10])[0]
        p.total_investment = planner.investment_in(
            band_list[[b.label for b in band_list].index(p.band)], major_threshold() - 1
        )
        p.prior_funds = Decimal(int(p.total_investment * Decimal(rng.uniform(0.15, 0.55))))
        headroom = p.total_investment * Decimal("0.9") - p.prior_funds
        p.funds = spread(
            Decimal(int(headroom * Decimal(rng.uniform(0.1, 0.6)))),
            months_from(year, 1, fund_until),
            rng,
        )
        p.last_year = year
        created.append(p)
    return created


def carry_over(
    planner: Planner, projects: list[Project], year: int, fund_until: int, share: float
) -> list[Project]:
    """Some projects of the previous year keep receiving funds in ``year`` (reported as 续建)."""
    rng = planner.rng
    carried = []
    for p in projects:
        if (
            p.is_loan
            or p.signed.year != year - 1
            or rng.random() > share
            or p.total_investment is None
        ):
            continue
        headroom = p.total_investment * Decimal("0.9") - p.lifetime_funds()
        if headroom < 5:
            continue
        p.funds.update(
            spread(
                Decimal(int(headroom * Decimal(rng.uniform(0.2, 0.7)))),
                months_from(year, 1, fund_until),
                rng,
            )
        )
        p.last_year = year
        carried.append(p)
    return carried


def extend_funds(
    planner: Planner, projects: list[Project], year: int, first_month: int, last_month: int
) -> None:
    """More money for projects already signed, in the months ``first_month``..``last_month``."""
    rng = planner.rng
    for p in projects:
        if p.is_loan or p.total_investment is None or p.signed.year != year or rng.random() < 0.3:
            continue
        headroom = p.total_investment * Decimal("0.9") - p.lifetime_funds()
        if headroom < 2:
            continue
        extra = Decimal(int(headroom * Decimal(rng.uniform(0.1, 0.6))))
        p.funds.update(spread(extra, months_from(year, first_month, last_month), rng))
    for p in projects:  # loans keep appearing (with 0 new money) until the year ends
        if p.is_loan and p.signed.year == year:
            for m in range(first_month, last_month + 1):
                p.funds.setdefault((year, m), ZERO)


def finalize_contracts(planner: Planner) -> None:
    """Contract amounts above every project's lifetime funds, at most its investment; loans have none."""
    rng = planner.rng
    for p in planner.projects:
        if p.is_loan or p.total_investment is None or p.contract_amount is not None:
            continue
        lifetime = p.lifetime_funds()
        room = p.total_investment - lifetime
        if p.sector == SPECIAL:
            p.contract_amount = p.total_investment
        else:
            p.contract_amount = min(
                p.total_investment,
                Decimal(math.ceil(lifetime + room * Decimal(rng.uniform(0.3, 1.0)))),
            )
        if p.contract_amount <= lifetime:
            p.contract_amount = p.total_investment
