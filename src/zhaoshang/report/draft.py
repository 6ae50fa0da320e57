"""The report's text in the seed's own style and order, drafted from ``ReportData``.

The result is a list of blocks (heading, paragraph, chart, table, placeholder) that the Word
and HTML writers render the same way, so both files state the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from zhaoshang.report.figures import QUERIES, ReportData

CHINESE_ORDINALS = "一二三四五六七八九十"


@dataclass
class Block:
    kind: str  # title | meta | heading | paragraph | placeholder | chart | table | code
    text: str = ""
    chart: str = ""  # chart key (see charts.py) for kind == "chart"
    rows: list[list[str]] = field(default_factory=list)  # for kind == "table"


def period_label(month: int) -> str:
    return {6: "上半年", 12: "全年"}.get(month, f"1-{month}月")


def wan(value) -> str:
    """万元 as the office writes it: whole numbers plain, otherwise up to two decimals."""
    amount = Decimal(value or 0).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return f"{amount.normalize():f}" if amount != amount.to_integral() else f"{int(amount)}"


def yi(value) -> str:
    """亿元 with one decimal (10.4亿元)."""
    return f"{(Decimal(value or 0) / 10000).quantize(Decimal('0.1'), ROUND_HALF_UP)}"


def money(value) -> str:
    """The headline total: 亿元 with one decimal from 1亿 on (10.4亿元), else 万元."""
    return f"{yi(value)}亿元" if Decimal(value or 0) >= 10000 else f"{wan(value)}万元"


def pct(value) -> str:
    """A share with one decimal, rounded half up (57.1583 -> 57.2)."""
    if value is None:
        return "—"
    return f"{Decimal(str(value)).quantize(Decimal('0.1'), ROUND_HALF_UP)}"


def names(items: list[str]) -> str:
    return "、".join(items)


def _sector_clause(data: ReportData, *, verified: bool) -> str:
    parts = []
    for s in data.project_sectors:
        projects = s.verified_new_projects if verified else s.new_projects
        funds = s.verified_funds_wan if verified else s.funds_wan
        share = s.verified_share_pct if verified else s.share_pct
        parts.append(f"{s.sector}项目{projects}个，项目资金{wan(funds)}万元，占{pct(share)}%")
    for s in data.other_sectors:
        funds = s.verified_funds_wan if verified else s.funds_wan
        share = s.verified_share_pct if verified else s.share_pct
        parts.append(f"{s.sector}{wan(funds)}万元，占{pct(share)}%")
    return "；".join(parts)


def statistics_paragraph(data: ReportData) -> str:
    period = period_label(data.month)
    bands = "，".join(f"{b.label_zh}的项目{b.new_projects}个" for b in data.bands)
    return (
        f"{period}，全县共引进项目{data.new_projects}个，实际到位资金{money(data.funds_wan)}，"
        f"其中{_sector_clause(data, verified=False)}。按投资规模划分，{bands}。"
    )


def verified_paragraph(data: ReportData) -> str:
    if not data.verified_differs:
        return "以上为各单位报送数。对照质量检查，没有需要剔除的疑点项目，核实数与报送数一致。"
    bands = "，".join(
        f"{b.label_zh}的项目{b.verified_new_projects}个"
        for b in data.bands
        if b.verified_new_projects != b.new_projects
    )
    return (
        "以上为各单位报送数。剔除尚未排除的以旧充新、以小充大、拼凑挂靠等疑点项目后，核实数为："
        f"引进项目{data.verified_new_projects}个（报送数{data.new_projects}个），实际到位资金"
        f"{wan(data.verified_funds_wan)}万元（报送数{wan(data.funds_wan)}万元），"
        f"其中{_sector_clause(data, verified=True)}"
        + (f"；按投资规模，{bands}" if bands else "")
        + "。"
    )


def schedule_paragraph(data: ReportData) -> str:
    target = data.target_funds_wan
    if not target:
        return "各单位尚未下达全年到位资金目标，无法对照序时进度。"
    completion = 100 * data.funds_wan / target
    gap = completion - Decimal(str(data.elapsed_pct))
    state = "超序时进度" if gap >= 0 else "低于序时进度"
    goal = "时间过半、任务过半的要求" if data.month == 6 else "序时进度要求"
    met = f"达到了{goal}" if gap >= 0 else f"没有达到{goal}"
    return (
        f"全县全年到位资金目标{wan(target)}万元，{period_label(data.month)}完成"
        f"{pct(completion)}%，序时进度{pct(data.elapsed_pct)}%，{state}{pct(abs(gap))}个百分点，"
        f"{met}。"
    )


def continuing_paragraph(data: ReportData) -> str | None:
    if not data.continuing_funds_wan:
        return None
    verified = ""
    if data.verified_continuing_funds_wan != data.continuing_funds_wan:
        verified = (
            f"其中{wan(data.continuing_funds_wan - data.verified_continuing_funds_wan)}万元"
            f"在未排除的疑点行中，核实数为{wan(data.verified_continuing_funds_wan)}万元，"
        )
    return (
        f"另有往年引进的续建项目本年到位资金{wan(data.continuing_funds_wan)}万元，{verified}"
        "按统计口径不计入上述实际到位资金。"
    )


def major_and_foreign(data: ReportData) -> list[str]:
    texts = []
    if data.major_projects:
        listed = names([f"{u}“{p}”（{wan(t)}万元）" for u, p, t in data.major_projects[:10]])
        texts.append(
            f"引进投资规模{data.major_min_wan}万元以上的重大项目{len(data.major_projects)}个："
            f"{listed}" + ("等" if len(data.major_projects) > 10 else "") + "。"
        )
    else:
        texts.append(f"尚未引进投资规模{data.major_min_wan}万元以上的重大项目。")
    if data.foreign_projects:
        texts.append(
            f"利用外资项目{data.foreign_projects}个，到位资金{wan(data.foreign_funds_wan)}万元。"
        )
    else:
        texts.append("直接利用外资仍是空白。")
    return texts


def units_paragraphs(data: ReportData) -> list[str]:
    texts = []
    good = [u.unit_name for u in data.units if u.score >= 100]
    if good:
        texts.append(
            f"根据{period_label(data.month)}招商引资考核结果，完成任务较好（得分100分以上）的乡镇、"
            f"县直单位有：{names(good)}等{len(good)}个单位。"
        )
    else:
        texts.append("根据考核结果，尚无得分达到100分的单位。")
    behind = [
        u.unit_name
        for u in data.units
        if u.schedule_status_zh == "欠进度" and not u.is_blank and u.is_on_roster
    ]
    if behind:
        texts.append(
            f"低于序时进度（{pct(data.elapsed_pct)}%）的单位有：{names(behind)}等{len(behind)}个单位。"
        )
    scored = [u.score for u in data.units if not u.is_blank and u.is_on_roster]
    blank = [u.unit_name for u in data.units if u.is_blank and u.is_on_roster]
    if scored:
        texts.append(
            f"各单位工作进展不平衡，考核得分最高的{pct(max(scored))}分，最低的{pct(min(scored))}分"
            + (
                f"，至今尚有{names(blank)}等{len(blank)}个单位招商引资依然空白。"
                if blank
                else "，没有空白单位。"
            )
        )
    return texts


def problems(data: ReportData) -> list[str]:
    """存在问题: the seed's 一是……二是…… list, each item from the data."""
    items = []
    if not data.major_projects:
        items.append(f"缺少投资规模{data.major_min_wan}万元以上的大项目")
    if not data.foreign_projects:
        items.append("直接利用外资还是空白")
    blank = [u.unit_name for u in data.units if u.is_blank and u.is_on_roster]
    scored = [u.score for u in data.units if not u.is_blank and u.is_on_roster]
    if scored:
        items.append(
            f"工作进展极不平衡，考核分数较好的单位达{pct(max(scored))}分，差的仅{pct(min(scored))}分"
            + (f"，尚有{names(blank)}等{len(blank)}个单位招商引资依然空白" if blank else "")
        )
    if data.flags:
        total = sum(g.count for g in data.flags)
        parts = []
        for g in data.flags:
            confirmed = f"，其中已确认{g.confirmed}条" if g.confirmed else ""
            units = names(g.units[:8]) + ("等" if len(g.units) > 8 else "")
            parts.append(f"{g.rule_zh}{g.count}条{confirmed}（涉及{units}）")
        items.append(f"质量检查发现未排除的疑点{total}条：" + "；".join(parts))
    else:
        items.append("质量检查未发现未排除的疑点")
    numbered = [f"{CHINESE_ORDINALS[i]}是{text}" for i, text in enumerate(items)]
    return ["招商引资工作中存在的问题也不容忽视，主要表现在：" + "；".join(numbered) + "。"]


def sector_table(data: ReportData) -> list[list[str]]:
    rows = [["产业类别", "引进项目（个）", "实际到位资金（万元）", "占比（%）"]]
    if data.verified_differs:
        rows[0] += ["核实项目（个）", "核实资金（万元）"]
    for s in data.sectors:
        row = [
            s.sector,
            str(s.new_projects) if s.counts_projects else "—",
            wan(s.funds_wan),
            pct(s.share_pct),
        ]
        if data.verified_differs:
            row += [
                str(s.verified_new_projects) if s.counts_projects else "—",
                wan(s.verified_funds_wan),
            ]
        rows.append(row)
    total = [
        "合计",
        str(data.new_projects),
        wan(data.funds_wan),
        "100.0" if data.funds_wan else "—",
    ]
    if data.verified_differs:
        total += [str(data.verified_new_projects), wan(data.verified_funds_wan)]
    rows.append(total)
    return rows


def draft(data: ReportData) -> list[Block]:
    period = period_label(data.month)
    blocks = [
        Block("title", f"{data.year}年{period}招商引资工作总结"),
        Block(
            "meta",
            f"数据截至{data.year}年{data.month}月（1-{data.month}月累计），由数据仓库根据各单位月报"
            f"自动起草（运行编号 {data.run_id}）。文中数字均由数据计算，来源查询见附录。",
        ),
        Block(
            "placeholder",
            "【待办公室填写：今年以来的总体工作情况（如组织领导、部署落实）】",
        ),
        Block("paragraph", schedule_paragraph(data)),
        Block("paragraph", statistics_paragraph(data)),
    ]
    continuing = continuing_paragraph(data)
    if continuing:
        blocks.append(Block("paragraph", continuing))
    blocks.append(Block("paragraph", verified_paragraph(data)))
    blocks.append(Block("table", rows=sector_table(data)))
    blocks.append(Block("chart", "图1 各产业实际到位资金占比", chart="sector_shares"))
    blocks.append(Block("chart", "图2 按投资规模划分的新引进项目", chart="size_bands"))
    blocks.append(Block("heading", "一、重大项目和利用外资"))
    blocks += [Block("paragraph", text) for text in major_and_foreign(data)]
    blocks.append(Block("heading", "二、各单位完成情况"))
    blocks += [Block("paragraph", text) for text in units_paragraphs(data)]
    blocks.append(Block("chart", "图3 各单位完成全年到位资金目标情况与序时进度", chart="units"))
    blocks.append(Block("chart", "图4 逐月累计实际到位资金与序时目标", chart="monthly"))
    blocks.append(Block("heading", "三、存在问题"))
    blocks += [Block("paragraph", text) for text in problems(data)]
    if data.flags:
        blocks.append(Block("chart", "图5 未排除的疑点（按规则）", chart="flags"))
    blocks.append(Block("heading", "四、工作措施"))
    blocks.append(Block("placeholder", "【待办公室填写：本期采取的主要工作措施】"))
    blocks.append(Block("heading", "五、下步打算"))
    blocks.append(Block("placeholder", "【待办公室填写：下步工作建议和打算】"))
    blocks.append(Block("heading", "附录：数据来源"))
    blocks.append(
        Block(
            "paragraph",
            f"以下查询在分析库（python -m zhaoshang sql）中以年份 {data.year}、月份 "
            f"{data.month} 代入问号即可复核文中每个数字。",
        )
    )
    for title, sql in QUERIES.values():
        blocks.append(Block("paragraph", title))
        blocks.append(Block("code", sql))
    return blocks
