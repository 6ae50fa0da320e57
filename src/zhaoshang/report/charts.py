"""The report's charts as PNG bytes (matplotlib, headless), same numbers as its tables.

Chinese labels need a CJK font: Noto Sans CJK SC from Debian's ``fonts-noto-cjk`` (listed in
``.ci/system-packages.txt``). Without it matplotlib would draw empty boxes, so we refuse to
draw instead of handing leaders a chart of tofu.
"""

from __future__ import annotations

import io
from decimal import Decimal

from tqdm import tqdm

from zhaoshang.report.draft import pct, wan
from zhaoshang.report.figures import ReportData

CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Serif CJK SC", "Source Han Sans SC")
COLORS = ["#2F5597", "#C55A11", "#548235", "#7F6000", "#7030A0", "#1F7A8C"]


class MissingCJKFont(RuntimeError):
    pass


def _installed_family() -> str | None:
    from matplotlib import font_manager

    for family in CJK_FAMILIES:
        try:
            font_manager.findfont(
                font_manager.FontProperties(family=family), fallback_to_default=False
            )
        except ValueError:
            continue
        return family
    return None


def cjk_font_family() -> str:
    from matplotlib import font_manager

    family = _installed_family()
    if family is None:
        # matplotlib's font cache predates a font installed since (make run installs it):
        # add the system's CJK files to this process's font list rather than trust the cache.
        for path in font_manager.findSystemFonts():
            if "CJK" in path or "SourceHan" in path:
                font_manager.fontManager.addfont(path)
        family = _installed_family()
    if family is not None:
        return family
    raise MissingCJKFont(
        "找不到中文字体（请安装 Debian 软件包 fonts-noto-cjk）/ no CJK font found: install the "
        "Debian package fonts-noto-cjk (see .ci/system-packages.txt)"
    )


def _figure(width: float, height: float):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    plt.rcParams["font.family"] = cjk_font_family()
    plt.rcParams["axes.unicode_minus"] = False
    fig, ax = plt.subplots(figsize=(width, height), dpi=110)
    ax.spines[["top", "right"]].set_visible(False)
    return plt, fig, ax


def _png(plt, fig) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def sector_shares(data: ReportData) -> bytes:
    plt, fig, ax = _figure(6.4, 3.0)
    sectors = [s for s in data.sectors if s.funds_wan]
    labels = [f"{s.sector}  {wan(s.funds_wan)}万元（{pct(s.share_pct)}%）" for s in sectors]
    values = [float(s.funds_wan) for s in sectors]
    y = range(len(sectors))
    ax.barh(list(y), values, color=COLORS[: len(sectors)])
    ax.set_yticks(list(y), [s.sector for s in sectors])
    ax.invert_yaxis()
    for i, label in enumerate(labels):
        ax.text(values[i], i, "  " + label.split("  ")[1], va="center", fontsize=9)
    ax.set_xlim(0, max(values or [1]) * 1.45)
    ax.set_xlabel("实际到位资金（万元）")
    ax.set_title(f"各产业实际到位资金，合计{wan(data.funds_wan)}万元", fontsize=11)
    return _png(plt, fig)


def size_bands(data: ReportData) -> bytes:
    plt, fig, ax = _figure(6.4, 3.0)
    labels = [b.label_zh for b in data.bands]
    values = [b.new_projects for b in data.bands]
    bars = ax.bar(labels, values, color=COLORS[0])
    ax.bar_label(bars, labels=[f"{v}个" for v in values], fontsize=9)
    ax.set_ylabel("新引进项目（个）")
    ax.set_ylim(0, max(values or [1]) * 1.2 + 1)
    ax.set_title(f"按投资规模划分，共{sum(values)}个项目", fontsize=11)
    return _png(plt, fig)


def units(data: ReportData) -> bytes:
    rows = [u for u in data.units if u.is_on_roster and u.completion_pct is not None]
    rows.sort(key=lambda u: u.completion_pct or 0.0)  # None was filtered out above
    plt, fig, ax = _figure(6.4, max(3.0, 0.14 * len(rows) + 1.2))
    values = [float(u.completion_pct or 0.0) for u in rows]
    colors = ["#548235" if v >= data.elapsed_pct else "#C00000" for v in values]
    ax.barh([u.unit_name for u in rows], values, color=colors, height=0.7)
    ax.axvline(data.elapsed_pct, color="#404040", linestyle="--", linewidth=1.2)
    ax.text(
        data.elapsed_pct,
        len(rows) - 0.3,
        f" 序时进度{pct(data.elapsed_pct)}%",
        fontsize=9,
        va="bottom",
    )
    ax.tick_params(axis="y", labelsize=7)
    ax.set_ylim(-0.7, len(rows) + 0.6)
    ax.set_xlabel("完成全年到位资金目标（%）")
    ahead = sum(v >= data.elapsed_pct for v in values)
    ax.set_title(
        f"超序时进度{ahead}个单位（绿），低于序时进度{len(rows) - ahead}个单位（红）", fontsize=11
    )
    return _png(plt, fig)


def monthly(data: ReportData) -> bytes:
    plt, fig, ax = _figure(6.4, 3.2)
    months = [f"{m.month}月" for m in data.months]
    funds = [float(m.funds_wan) for m in data.months]
    bars = ax.bar(months, funds, color=COLORS[0], label="实际到位资金（年初累计）")
    ax.bar_label(bars, labels=[wan(Decimal(f).quantize(Decimal(1))) for f in funds], fontsize=8)
    targets = [m.ytd_target_funds_wan for m in data.months]
    if any(targets):
        ax.plot(
            months,
            [float(t or 0) for t in targets],
            color="#C55A11",
            marker="o",
            label="序时目标（全年目标×月数/12）",
        )
    ax.set_ylabel("万元")
    ax.legend(fontsize=8, loc="upper left", frameon=False)
    ax.set_title("逐月累计实际到位资金", fontsize=11)
    return _png(plt, fig)


def flags(data: ReportData) -> bytes:
    plt, fig, ax = _figure(6.4, max(2.2, 0.45 * len(data.flags) + 1.0))
    labels = [g.rule_zh for g in data.flags]
    values = [g.count for g in data.flags]
    bars = ax.barh(labels, values, color=COLORS[1])
    ax.bar_label(bars, labels=[f"{v}条" for v in values], fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, max(values or [1]) * 1.2 + 1)
    ax.set_xlabel("疑点（条）")
    ax.set_title(f"未排除的疑点共{sum(values)}条", fontsize=11)
    return _png(plt, fig)


CHARTS = {
    "sector_shares": sector_shares,
    "size_bands": size_bands,
    "units": units,
    "monthly": monthly,
    "flags": flags,
}


def render_all(data: ReportData, keys: list[str]) -> dict[str, bytes]:
    # Charts take a few seconds each: a bar on a terminal only (disable=None), none in logs.
    return {
        key: CHARTS[key](data)
        for key in tqdm(keys, desc="图表 / charts", unit="张 chart", disable=None, leave=False)
    }
