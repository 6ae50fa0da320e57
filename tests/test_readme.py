"""The README's commands work and its names match the code: a new user copies them verbatim."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from zhaoshang.cli import COMMANDS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")
SOURCES = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "src").rglob("*.py"))
SHELL_WORDS = {"cd", "export", "source", ".", "echo", "cat", "cp", "ls", "sudo", "env"}


def _code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def _commands() -> list[list[str]]:
    found = []
    for block in _code_blocks("(?:bash|sh|shell)"):
        for line in block.splitlines():
            line = line.split("  #", 1)[0].strip()
            if not line or line.startswith("#"):
                continue
            words = shlex.split(line)
            while words and "=" in words[0] and not words[0].startswith("-"):
                words = words[1:]  # VERBOSE=1 make run
            if words:
                found.append(words)
    return found


def _make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][a-z-]*):", MAKEFILE, flags=re.M))


def test_readme_has_commands():
    assert any(words[:2] == ["make", "run"] for words in _commands())
    assert any(words[:2] == ["make", "test"] for words in _commands())


def test_every_make_target_the_readme_names_exists():
    named = {w[1] for w in _commands() if w[0] == "make" and len(w) > 1}
    named |= set(re.findall(r"`make ([a-z][a-z-]*)", README))
    assert named and named <= _make_targets(), named - _make_targets()


def test_every_zhaoshang_command_the_readme_names_answers_help():
    names = {c.name for c in COMMANDS}
    used = {w[3] for w in _commands() if w[:3] == ["python", "-m", "zhaoshang"] and len(w) > 3}
    used |= set(re.findall(r"python -m zhaoshang ([a-z][a-z-]*)", README))
    assert used, "the README shows no zhaoshang command"
    assert used <= names, used - names
    for name in sorted(used):
        out = subprocess.run(
            [sys.executable, "-m", "zhaoshang", name, "--help"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert out.returncode == 0, (name, out.stderr[-500:])


def test_every_other_program_the_readme_runs_is_installed_or_built_in():
    for words in _commands():
        program = words[0]
        if program in {"make", "python"} or program in SHELL_WORDS:
            continue
        assert shutil.which(program) or (ROOT / program).exists(), program


def test_output_files_the_readme_names_are_the_ones_the_code_writes():
    named = set(re.findall(r"`output/([^`]+)`", README))
    assert named, "the README names no output file"
    for path in named:
        literal = re.split(r"[<*{]", path, maxsplit=1)[0].rstrip("/")
        stem = literal.rsplit("/", 1)[-1]
        assert stem in SOURCES, f"output/{path}: '{stem}' is not written by the code"


def test_the_summary_the_readme_shows_uses_the_codes_labels():
    sample = next(b for b in _code_blocks("text") if "文件 / files:" in b)
    for line in sample.strip().splitlines():
        if line.startswith("["):
            label = line[1 : line.index("]")].split(" / ")[0]
        else:
            label = line.split(":", 1)[0].split(" / ")[0]
        assert label in SOURCES, f"README summary line not printed by the code: {line}"


def test_help_is_in_both_languages_and_aligned():
    out = subprocess.run(
        [sys.executable, "-m", "zhaoshang", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "用法 / usage" in out and "`" not in out
    rows = out.split("命令 / commands:\n", 1)[1].splitlines()
    for zh_line, en_line in zip(rows[0::2], rows[1::2], strict=True):
        name = zh_line.split()[0]
        assert re.search(r"[\u4e00-\u9fff]", zh_line), zh_line
        assert en_line.strip().isascii() or re.search(r"[a-z]", en_line), en_line
        zh_column = zh_line.index(zh_line.split(None, 1)[1].strip()[0], len(name) + 2)
        assert len(en_line) - len(en_line.lstrip()) == zh_column, (zh_line, en_line)
    for command in COMMANDS:
        assert command.name in out


def test_make_help_is_in_both_languages():
    out = subprocess.run(
        ["make", "--no-print-directory", "help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = out.splitlines()[1:]
    assert len(lines) == 2 * len(re.findall(r"^[a-z-]+:.*##", MAKEFILE, flags=re.M))
    for zh_line, en_line in zip(lines[0::2], lines[1::2], strict=True):
        assert re.search(r"[\u4e00-\u9fff]", zh_line), zh_line
        assert re.search(r"[A-Za-z]{3}", en_line), en_line


def test_the_readme_cites_only_what_is_in_the_repository():
    for doc in [ROOT / "README.md", *ROOT.glob("*/README.md"), *ROOT.glob("docs/*.md")]:
        text = doc.read_text(encoding="utf-8")
        assert "DATA_CONTRACT" not in text and "§" not in text, doc
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
            assert (doc.parent / target).exists(), f"{doc.name} links to missing {target}"
