"""The weekly report's charts: real PNGs of the right size, not blank, Japanese in the packaged
font (every character has a glyph: nothing is drawn as a box)."""

from __future__ import annotations

import importlib.util
import io
import logging
import warnings
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font
from PIL import Image

from bot import charts
from bot.domain.statistics import HistoryPoint, PrefectureCoverage
from bot.i18n import LANGUAGES, Language, catalogue

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _no_font_fallback(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """A missing glyph or font is a warning in matplotlib: here it fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with caplog.at_level(logging.WARNING, logger="matplotlib"):
            yield
    assert not [r for r in caplog.records if r.name.startswith("matplotlib")]


def _history(weeks: int) -> list[HistoryPoint]:
    start = date(2026, 5, 25)
    points = [
        HistoryPoint(
            start + timedelta(weeks=i),
            12_000 + 100 * i,
            4_200 + 20 * i if i >= weeks - 6 else None,
            i < weeks - 6,
        )
        for i in range(weeks - 1)
    ]
    points.append(HistoryPoint(date(2026, 11, 24), 14_700, 4_700, False))
    return points


def _coverage(rate: float) -> list[PrefectureCoverage]:
    return [
        PrefectureCoverage(
            code=tile.code,
            name=tile.label_ja,
            name_en=tile.label_en,
            local_governments=40,
            covered=round(40 * rate * (int(tile.code) / 47)),
            members=100,
        )
        for tile in charts.PREFECTURE_TILES
    ]


def _image(png: bytes) -> Image.Image:
    assert png.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(png))
    image.load()
    return image.convert("RGB")


def _ink_share(image: Image.Image) -> float:
    """Share of pixels that are not white (the palest tile colour still counts)."""
    grey = image.convert("L")
    histogram = grey.histogram()
    return 1 - sum(histogram[253:]) / (image.width * image.height)


def _palette(image: Image.Image) -> set[tuple[int, ...]]:
    return {colour for _, colour in image.getcolors(maxcolors=1 << 24) or []}


def _colours(image: Image.Image) -> int:
    return len(image.getcolors(maxcolors=1 << 20) or [])


# --- the font -----------------------------------------------------------------------------------


def test_the_font_is_the_packaged_ipaexgothic() -> None:
    path = charts.font_path()
    spec = importlib.util.find_spec("japanize_matplotlib")
    assert spec is not None and spec.submodule_search_locations
    assert path.is_relative_to(Path(next(iter(spec.submodule_search_locations))))
    assert path.name == "ipaexg.ttf" and path.stat().st_size > 1_000_000
    assert charts.font_family() == "IPAexGothic"
    found = font_manager.findfont(font_manager.FontProperties(family="IPAexGothic"))
    assert Path(found) == path


def test_every_japanese_label_has_a_glyph() -> None:
    font = FT2Font(str(charts.font_path()))
    texts = [tile.label_ja for tile in charts.PREFECTURE_TILES]
    texts += [v for k, v in catalogue("ja").items() if k.startswith("dashboard.chart.")]
    texts += ["0123456789,/%（）"]
    missing = {
        ch for text in texts for ch in text if ch.strip() and font.get_char_index(ord(ch)) == 0
    }
    assert missing == set()


def test_the_tile_grid_has_47_distinct_tiles() -> None:
    tiles = charts.PREFECTURE_TILES
    assert [t.code for t in tiles] == [f"{n:02d}" for n in range(1, 48)]
    assert len({(t.column, t.row) for t in tiles}) == 47
    positions = {t.label_en: (t.column, t.row) for t in tiles}
    # Hokkaido north-east of everything, Okinawa south-west of everything.
    assert positions["Hokkaido"] == (max(c for c, _ in positions.values()), 0)
    assert positions["Okinawa"] == (0, max(r for _, r in positions.values()))
    # Neighbours touch: Tokyo–Kanagawa–Saitama–Chiba, Osaka–Hyogo–Kyoto–Nara.
    for a, b in [
        ("Tokyo", "Kanagawa"),
        ("Tokyo", "Saitama"),
        ("Tokyo", "Chiba"),
        ("Osaka", "Hyogo"),
        ("Osaka", "Nara"),
        ("Kyoto", "Hyogo"),
    ]:
        (ca, ra), (cb, rb) = positions[a], positions[b]
        assert abs(ca - cb) + abs(ra - rb) == 1, (a, b)


# --- members over time --------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("weeks", [0, 1, 26])
def test_members_chart(language: Language, weeks: int) -> None:
    points = _history(weeks) if weeks else []
    png = charts.members_chart(points, language)
    assert 10_000 < len(png) < 1_000_000
    image = _image(png)
    assert image.size == (1000, 560)
    assert _ink_share(image) > 0.01
    if weeks > 1:
        assert _colours(image) > 50  # lines, markers, anti-aliased text
        assert _ink_share(image) > 0.03
        # both series are drawn in their colours
        pixels = _palette(image)
        assert any(_near(p, (0x1D, 0x35, 0x57)) for p in pixels)
        assert any(_near(p, (0xE7, 0x6F, 0x51)) for p in pixels)


def _near(pixel: tuple[int, ...], colour: tuple[int, int, int], tolerance: int = 8) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=False))


# --- coverage by prefecture ---------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("rate", [0.0, 0.8, 1.0])
def test_coverage_map(language: Language, rate: float) -> None:
    png = charts.coverage_map(_coverage(rate), language, covered=1_495, total=1_788)
    assert 30_000 < len(png) < 2_000_000
    image = _image(png)
    assert image.size == (1000, 900)
    assert _ink_share(image) > 0.15  # 47 coloured tiles
    assert _colours(image) > 100


def test_coverage_map_without_data_draws_grey_tiles() -> None:
    image = _image(charts.coverage_map([], "ja", covered=0, total=0))
    pixels = _palette(image)
    assert (0xD9, 0xD9, 0xD9) in pixels
    assert _ink_share(image) > 0.15


def test_charts_differ_by_language() -> None:
    ja = charts.coverage_map(_coverage(0.5), "ja", covered=10, total=20)
    en = charts.coverage_map(_coverage(0.5), "en", covered=10, total=20)
    assert ja != en
    assert _image(ja).tobytes() != _image(en).tobytes()


def test_a_missing_font_package_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    charts.font_path.cache_clear()
    monkeypatch.setattr(charts, "FONT_PACKAGE", "no_such_font_package_kyoso")
    try:
        with pytest.raises(charts.FontMissing, match="japanize-matplotlib"):
            charts.font_path()
    finally:
        charts.font_path.cache_clear()
