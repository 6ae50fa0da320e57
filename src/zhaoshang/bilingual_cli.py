"""argparse in Chinese and English: the county's IT staff read help in Chinese, the code's
maintainers in English, so every heading and option says both, aligned, without markup.

Used by ``python -m zhaoshang`` and by the sub-tools that parse their own options (generate,
bench), so all of them print help the same way.
"""

from __future__ import annotations

import argparse
import unicodedata
from collections.abc import Sequence


def display_width(text: str) -> int:
    """Terminal columns: CJK characters take two, so padding by len() misaligns Chinese."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


class BilingualFormatter(argparse.RawDescriptionHelpFormatter):
    """Bilingual section headings; descriptions kept as written (they are already laid out)."""

    def add_usage(self, usage, actions, groups, prefix=None):  # type: ignore[override]
        super().add_usage(usage, actions, groups, prefix="用法 / usage: ")


def make_parser(prog: str, zh: str, en: str, epilog: str | None = None) -> argparse.ArgumentParser:
    """A parser whose description, headings and -h line are in both languages."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description=f"{zh}\n{en}",
        epilog=epilog,
        formatter_class=BilingualFormatter,
        add_help=False,
    )
    localise(parser)
    return parser


def localise(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser._positionals.title = "参数 / arguments"
    parser._optionals.title = "选项 / options"
    parser.add_argument(
        "-h", "--help", action="help", help="显示本帮助并退出 / show this help and exit"
    )
    return parser


def command_table(rows: Sequence[tuple[str, str, str]], indent: int = 2) -> str:
    """``name  中文说明`` over ``      English help``, the names padded to one column."""
    width = max(display_width(name) for name, _, _ in rows) + 3
    lines = []
    for name, zh, en in rows:
        lines.append(" " * indent + pad(name, width) + zh)
        lines.append(" " * (indent + width) + en)
    return "\n".join(lines)
