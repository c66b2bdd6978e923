"""Charts as server-rendered SVG: real pictures, no JavaScript and nothing fetched from elsewhere."""

import math
from decimal import Decimal

from django.utils.html import escape

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 760, 220, 60, 30, 12
CHARACTER_WIDTH = 6.5  # of the 11px sans-serif labels, generously
PALETTE = ["#417690", "#e07a2f", "#5b9b45", "#a23b72", "#7a6fbd", "#c7a100", "#2f8f8b"]


def _frame(title: str, peak, body: str, labels: list[str]) -> str:
    plot_height = HEIGHT - BOTTOM - TOP
    ticks = "".join(
        f'<text x="{LEFT - 6}" y="{TOP + plot_height * (1 - f) + 4:.1f}" text-anchor="end">{escape(_short(peak * Decimal(str(f))))}</text>'
        f'<line x1="{LEFT}" x2="{WIDTH}" y1="{TOP + plot_height * (1 - f):.1f}" y2="{TOP + plot_height * (1 - f):.1f}" stroke="#ddd"/>'
        for f in (0, 0.5, 1)
    )
    slot = (WIDTH - LEFT) / max(len(labels), 1)
    label_width = max((len(label) for label in labels), default=1) * CHARACTER_WIDTH + 12
    step = max(1, math.ceil(label_width / slot))  # every step-th label, so none overlaps its neighbour
    names = "".join(
        f'<text x="{LEFT + slot * (i + 0.5):.1f}" y="{HEIGHT - 10}" text-anchor="middle">{escape(label)}</text>'
        for i, label in enumerate(labels) if i % step == 0
    )
    return (f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
            f'width="100%" style="max-width:{WIDTH}px;font:11px sans-serif">'
            f"<title>{escape(title)}</title>{ticks}{body}{names}</svg>")


def _short(value) -> str:
    value = Decimal(value)
    for size, suffix in ((Decimal(10**9), "G"), (Decimal(10**6), "M"), (Decimal(10**3), "k")):
        if abs(value) >= size:
            return f"{(value / size).quantize(Decimal('0.1'))}{suffix}"
    return f"{value.quantize(Decimal('1'))}"


def bar_chart(title: str, labels: list[str], values: list[int]) -> str:
    peak = max(values, default=0) or 1
    plot_height, slot = HEIGHT - BOTTOM - TOP, (WIDTH - LEFT) / max(len(values), 1)
    bars = "".join(
        f'<rect x="{LEFT + slot * i + slot * 0.1:.1f}" y="{TOP + plot_height * (1 - value / peak):.1f}" '
        f'width="{slot * 0.8:.1f}" height="{plot_height * value / peak:.1f}" fill="{PALETTE[0]}">'
        f"<title>{escape(labels[i])}: {value}</title></rect>"
        for i, value in enumerate(values)
    )
    return _frame(title, Decimal(peak), bars, labels)


def line_chart(title: str, labels: list[str], series: dict[str, list[Decimal]]) -> str:
    peak = max((value for values in series.values() for value in values), default=Decimal(0)) or Decimal(1)
    plot_height, slot = HEIGHT - BOTTOM - TOP, (WIDTH - LEFT) / max(len(labels), 1)
    lines, legend = [], []
    for index, (name, values) in enumerate(sorted(series.items())):
        colour = PALETTE[index % len(PALETTE)]
        points = " ".join(f"{LEFT + slot * (i + 0.5):.1f},{TOP + plot_height * float(1 - value / peak):.1f}"
                          for i, value in enumerate(values))
        lines.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"><title>{escape(name)}</title></polyline>')
        legend.append(f'<text x="{LEFT + 8 + index * 70}" y="{TOP + 10}" fill="{colour}">■ {escape(name)}</text>')
    return _frame(title, peak, "".join(lines + legend), labels)
