"""PNG charts for /report (matplotlib, Agg backend: no display needed).

Chinese labels need a font with CJK glyphs. The first installed one of
:data:`CJK_FONTS` is used (on Debian/Ubuntu: ``apt install fonts-noto-cjk`` or
``fonts-wqy-microhei``). Without one, :func:`cjk_font` returns None and callers
draw the English labels instead, so a chart never shows empty boxes.

Every function takes its texts (titles, axis labels, names) from the caller, who
renders them from templates; here are only the drawings.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import logging
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")

from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

log = logging.getLogger(__name__)

CJK_FONTS: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
)
DPI = 110


@functools.lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The family name of an installed font with Chinese glyphs, or None."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in installed:
            return name
    log.warning(
        "no CJK font installed (Debian: fonts-noto-cjk or fonts-wqy-microhei); "
        "charts use English labels"
    )
    return None


def _figure(font: str | None, size: tuple[float, float] = (7.5, 4.5)) -> Figure:
    fig = Figure(figsize=size, dpi=DPI, layout="constrained")
    if font:
        fig.set_facecolor("white")
    return fig


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _font_kw(font: str | None) -> dict:
    return {"fontfamily": [font, "DejaVu Sans"]} if font else {}


def class_bars(
    counts: Sequence[tuple[str, int]], *, title: str, ylabel: str, font: str | None
) -> bytes:
    """Bar chart of customers per value class: [(label, count)] in display order."""
    fig = _figure(font)
    ax = fig.add_subplot()
    labels = [c[0] for c in counts]
    values = [c[1] for c in counts]
    bars = ax.bar(range(len(values)), values, color="#4C72B0")
    ax.bar_label(bars, labels=[f"{v:,}" for v in values], fontsize=8)
    ax.set_xticks(range(len(values)), labels, rotation=30, ha="right", **_font_kw(font))
    ax.set_title(title, **_font_kw(font))
    ax.set_ylabel(ylabel, **_font_kw(font))
    return _png(fig)


def rf_heatmap(
    grid: Sequence[tuple[int, int, int, float]],
    levels: tuple[int, int],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    colorbar: str,
    font: str | None,
) -> bytes:
    """R (rows) x F (columns) cells coloured by average M (yuan), annotated with counts.

    ``grid``: (R level, F level, customers, average M in fen); ``levels``: (R, F) counts.
    """
    r_levels, f_levels = levels
    avg = [[float("nan")] * f_levels for _ in range(r_levels)]
    cnt = [[0] * f_levels for _ in range(r_levels)]
    for r, f, n, m in grid:
        if 1 <= r <= r_levels and 1 <= f <= f_levels:
            avg[r_levels - r][f - 1] = m / 100
            cnt[r_levels - r][f - 1] = n
    fig = _figure(font, (6.5, 4.8))
    ax = fig.add_subplot()
    image = ax.imshow(avg, cmap="YlOrRd", aspect="auto")
    top = max((v for row in avg for v in row if v == v), default=0) or 1
    for i in range(r_levels):
        for j in range(f_levels):
            if cnt[i][j]:
                dark = avg[i][j] / top > 0.6  # white text on the dark end of the colour map
                ax.text(j, i, f"{cnt[i][j]:,}\n¥{avg[i][j]:,.0f}", ha="center", va="center",
                        fontsize=8, color="white" if dark else "black")  # fmt: skip
    ax.set_xticks(range(f_levels), [f"F{f}" for f in range(1, f_levels + 1)])
    ax.set_yticks(range(r_levels), [f"R{r}" for r in range(r_levels, 0, -1)])
    ax.set_title(title, **_font_kw(font))
    ax.set_xlabel(xlabel, **_font_kw(font))
    ax.set_ylabel(ylabel, **_font_kw(font))
    bar = fig.colorbar(image, ax=ax)
    bar.set_label(colorbar, **_font_kw(font))
    return _png(fig)


def pareto(
    points: Sequence[tuple[float, float]],
    marker: tuple[float, float] | None,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    note: str,
    font: str | None,
) -> bytes:
    """Cumulative share of sales against share of customers, best customers first."""
    fig = _figure(font, (6.0, 4.8))
    ax = fig.add_subplot()
    ax.plot([p[0] * 100 for p in points], [p[1] * 100 for p in points], color="#C44E52")
    ax.plot([0, 100], [0, 100], color="#999999", linestyle="--", linewidth=0.8)
    if marker is not None:
        x, y = marker[0] * 100, marker[1] * 100
        ax.plot([x, x, 0], [0, y, y], color="#4C72B0", linestyle=":", linewidth=1)
        ax.annotate(note, (x, y), xytext=(x + 5, y - 12), **_font_kw(font))
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 101)
    ax.set_title(title, **_font_kw(font))
    ax.set_xlabel(xlabel, **_font_kw(font))
    ax.set_ylabel(ylabel, **_font_kw(font))
    return _png(fig)


def class_trend(
    series: Mapping[dt.date, Mapping[str, int]],
    keys: Sequence[tuple[str, str]],
    *,
    title: str,
    ylabel: str,
    font: str | None,
) -> bytes:
    """One line per class over the days in ``series``; ``keys``: (code, label)."""
    fig = _figure(font, (8.0, 4.5))
    ax = fig.add_subplot()
    days = sorted(series)
    for code, label in keys:
        ax.plot(days, [series[d].get(code, 0) for d in days], marker="." if len(days) < 20 else "",
                label=label)  # fmt: skip
    ax.set_title(title, **_font_kw(font))
    ax.set_ylabel(ylabel, **_font_kw(font))
    prop = {"size": 7, **({"family": [font, "DejaVu Sans"]} if font else {})}
    if keys:
        ax.legend(ncols=2, prop=prop)
    fig.autofmt_xdate()
    return _png(fig)
