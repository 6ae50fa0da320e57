"""An independent scan of a truth's rows for the data-level signals of the flag rules (DOMAIN.md).

Not the project's rule engine: a plain re-statement used to prove that a generated inbox holds
exactly the planted signals and no others.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from zhaoshang import reference
from zhaoshang.generate import is_valid_uscc

OUTSIDE = {"境外", "省外", "省内县外"}
Position = tuple[str, int]


def latest_rows(truth):
    latest = {f.source_file for f in truth.files if f.is_latest}
    return [r for r in truth.rows if r.source_file in latest and r.status == "loaded"]


def _key(r) -> tuple:
    return (
        r.unit_name,
        reference.project_name_key(r.values["project_name"]),
        r.values["investor_uscc"],
    )


def _prev_month(period):
    year, month = period
    return (year, month - 1) if month > 1 else (year - 1, 12)


def scan(truth) -> dict[str, set[Position]]:
    rows = latest_rows(truth)
    found: dict[str, set[Position]] = defaultdict(set)
    for r in rows:
        v = r.values
        if not is_valid_uscc(v["investor_uscc"]):
            found["INVALID_USCC"].add((r.source_file, r.row_number))
        if v["investor_uscc"][2:8] == truth.county_code and v["capital_origin"] in OUTSIDE:
            found["LOCAL_AS_OUTSIDE"].add((r.source_file, r.row_number))
    periods = sorted({(r.year, r.month) for r in rows})
    previous: dict[tuple, Decimal] = {}
    for i, period in enumerate(periods):
        current = {}
        linked = i > 0 and periods[i - 1] == _prev_month(period)
        for r in (r for r in rows if (r.year, r.month) == period):
            v = r.values
            ti, contract = v.get("total_investment_wan"), v.get("contract_amount_wan")
            cum, funds = v["funds_cumulative_wan"], v["funds_period_wan"]
            before = previous.get(_key(r)) if linked else None
            if (
                (ti is not None and (funds > ti or cum > ti))
                or (contract is not None and cum > contract)
                or (before is not None and cum != before + funds)
            ):
                found["INFLATED_AMOUNT"].add((r.source_file, r.row_number))
            current[_key(r)] = cum
        previous = current
    groups = defaultdict(list)
    for r in rows:
        groups[
            (
                r.year,
                r.values["investor_uscc"],
                reference.project_name_key(r.values["project_name"]),
            )
        ].append(r)
    for members in groups.values():
        shares = {r.unit_name: r.values.get("credit_share_pct") or Decimal(100) for r in members}
        if len(shares) > 1:
            rule = "DUPLICATE_CLAIM" if sum(shares.values()) > 100 else "SHARED_PROJECT"
            found[rule].update((r.source_file, r.row_number) for r in members)
    earlier: dict[int, set[str]] = defaultdict(set)
    for r in rows:
        earlier[r.year].add(r.values["investor_uscc"])
    for r in rows:
        prior = (
            set().union(*(s for y, s in earlier.items() if y < r.year))
            if r.year > min(earlier)
            else set()
        )
        if r.values["project_kind"] == "新引进" and r.values["investor_uscc"] in prior:
            found["EARLIER_INVESTOR_NEW"].add((r.source_file, r.row_number))
    return dict(found)
