"""Unified social credit codes (统一社会信用代码, GB 32100-2015) for synthetic investors.

Layout of the 18 characters: 1 registration authority (9 = market regulator, 1 = 机构编制),
2 entity type, 3-8 the registering region's 行政区划代码, 9-17 the organisation code
(GB 11714, its 9th char a mod-11 check), 18 the mod-31 check character computed here.
"""

from __future__ import annotations

import random

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_BODY_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"

# registration authority + entity type prefixes
ENTERPRISE = "91"  # 工商 / 企业
FARMER_COOP = "93"  # 工商 / 农民专业合作社
GOVERNMENT = "11"  # 机构编制 / 机关


def _value(ch: str) -> int:
    return CHARSET.index(ch)


def uscc_check_char(first17: str) -> str:
    """The 18th character for the first 17 characters of a USCC (GB 32100-2015)."""
    if len(first17) != 17:
        raise ValueError(f"need 17 characters, got {len(first17)}")
    total = sum(_value(ch) * w for ch, w in zip(first17.upper(), _WEIGHTS, strict=False))
    return CHARSET[(31 - total % 31) % 31]


def is_valid_uscc(code: str | None) -> bool:
    """True if ``code`` has the GB 32100-2015 shape and its check character matches."""
    if not code or len(code) != 18:
        return False
    code = code.upper()
    if any(ch not in CHARSET for ch in code) or not code[2:8].isdigit():
        return False
    return uscc_check_char(code[:17]) == code[17]


def _org_check_char(body8: str) -> str:
    """GB 11714 organisation-code check character for an 8-character body."""
    total = sum(int(ch, 36) * w for ch, w in zip(body8, _ORG_WEIGHTS, strict=False))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def make_uscc(region_code: str, rng: random.Random, prefix: str = ENTERPRISE) -> str:
    """A valid USCC registered in ``region_code`` (6 digits), random organisation code."""
    if len(region_code) != 6 or not region_code.isdigit():
        raise ValueError(f"region code must be 6 digits, got {region_code!r}")
    if rng.random() < 0.6:  # post-2015 registrations start their organisation code with MA
        body = "MA" + "".join(rng.choice(_ORG_BODY_CHARS) for _ in range(6))
    else:
        body = "".join(rng.choice("0123456789") for _ in range(8))
    first17 = prefix + region_code + body + _org_check_char(body)
    return first17 + uscc_check_char(first17)


def corrupt_check_char(code: str) -> str:
    """The same code with a wrong (but well-formed) 18th character: an INVALID_USCC plant."""
    right = code[17]
    wrong = CHARSET[(CHARSET.index(right) + 7) % 31]
    return code[:17] + wrong
