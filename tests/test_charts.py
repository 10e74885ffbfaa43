"""Charts: PNGs whatever the data, and labels that render (CJK font or English)."""

from __future__ import annotations

import datetime as dt
import io
import warnings
from types import SimpleNamespace

import pytest
from matplotlib import font_manager
from matplotlib import image as mpimg

from bot import charts
from tests.conftest import ADMIN


def size(png: bytes) -> tuple[int, int]:
    img = mpimg.imread(io.BytesIO(png), format="png")
    return img.shape[1], img.shape[0]


def missing_glyphs(draw) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        draw()
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def test_every_chart_is_a_png_even_with_no_data():
    pngs = [
        charts.class_bars([("Important value", 3), ("Ordinary to win back", 0)],
                          title="t", ylabel="y", font=None),
        charts.class_bars([], title="t", ylabel="y", font=None),
        charts.rf_heatmap([(3, 1, 5, 12345.0), (1, 3, 2, 99.0)], (3, 3), title="t",
                          xlabel="F", ylabel="R", colorbar="c", font=None),
        charts.rf_heatmap([], (3, 3), title="t", xlabel="F", ylabel="R", colorbar="c", font=None),
        charts.pareto([(0.0, 0.0), (0.2, 0.7), (1.0, 1.0)], (0.2, 0.7), title="t", xlabel="x",
                      ylabel="y", note="top 20% bring 70%", font=None),
        charts.pareto([(0.0, 0.0)], None, title="t", xlabel="x", ylabel="y", note="", font=None),
        charts.class_trend({dt.date(2024, 1, d): {"a": d, "b": 2} for d in range(1, 31)},
                           [("a", "A"), ("b", "B")], title="t", ylabel="y", font=None),
        charts.class_trend({dt.date(2024, 1, 1): {}}, [], title="t", ylabel="y", font=None),
    ]  # fmt: skip
    for png in pngs:
        assert png.startswith(b"\x89PNG")
        w, h = size(png)
        assert 500 <= w <= 1000 and 400 <= h <= 600


def test_cjk_font_is_found_when_installed_and_none_otherwise(monkeypatch):
    fake = [SimpleNamespace(name="DejaVu Sans"), SimpleNamespace(name="WenQuanYi Micro Hei")]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", fake)
    charts.cjk_font.cache_clear()
    try:
        assert charts.cjk_font() == "WenQuanYi Micro Hei"
        monkeypatch.setattr(font_manager.fontManager, "ttflist", fake[:1])
        charts.cjk_font.cache_clear()
        assert charts.cjk_font() is None
    finally:
        charts.cjk_font.cache_clear()


def test_without_a_cjk_font_chinese_labels_would_be_boxes_so_english_is_used():
    def zh() -> bytes:
        return charts.class_bars([("重要价值客户", 1)], title="客户数", ylabel="人", font=None)

    def en() -> bytes:
        return charts.class_bars([("Important value", 1)], title="Customers", ylabel="n",
                                 font=None)  # fmt: skip

    assert missing_glyphs(zh)  # DejaVu has no Chinese: this is what we avoid
    assert missing_glyphs(en) == []


@pytest.mark.skipif(charts.cjk_font() is None, reason="no CJK font installed")
def test_with_a_cjk_font_chinese_labels_render():
    font = charts.cjk_font()
    draw = lambda: charts.class_bars([("重要价值客户", 1)], title="客户数", ylabel="人", font=font)  # noqa: E731
    assert missing_glyphs(draw) == []


async def test_chinese_report_without_a_cjk_font_draws_english_labels(kefu_bot, monkeypatch):
    from tests.test_e2e_segments import SHOP, load

    monkeypatch.setattr(charts, "cjk_font", lambda: None)
    await load(kefu_bot.db, SHOP)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        replies = await kefu_bot.send(ADMIN, "/report")
    assert not [w for w in caught if "missing from font" in str(w.message)]
    photos = [m for m in replies if m.photo]
    assert len(photos) == 4 and "各价值分类客户数" in photos[0].plain_text  # captions stay zh
