"""USCC check characters (GB 32100-2015) and synthetic codes."""

import random

import pytest

from zhaoshang.generate import is_valid_uscc, make_uscc, uscc_check_char
from zhaoshang.generate.uscc import corrupt_check_char


@pytest.mark.parametrize("code", ["91110000101623741K", "911101066976941872"])
def test_known_valid_codes(code):
    assert uscc_check_char(code[:17]) == code[17]
    assert is_valid_uscc(code)


def test_made_codes_are_valid_and_carry_their_region():
    rng = random.Random(3)
    for region in ("411426", "310115", "440300", "330100", "410000"):
        for _ in range(200):
            code = make_uscc(region, rng)
            assert is_valid_uscc(code), code
            assert code[2:8] == region
            assert not set(code) & set("IOSVZ")


def test_corrupted_code_fails_only_on_its_check_char():
    code = make_uscc("440300", random.Random(1))
    bad = corrupt_check_char(code)
    assert bad[:17] == code[:17] and bad[17] != code[17]
    assert not is_valid_uscc(bad)


@pytest.mark.parametrize(
    "bad", ["", "123", "91110000101623741", "9111000010162374IK", "91AB0000101623741K"]
)
def test_malformed_codes_are_invalid(bad):
    assert not is_valid_uscc(bad)
