"""The weekly report's two charts as PNG: members over time, and coverage on a tile map of
Japan's 47 prefectures.

Japanese text is set in IPAexGothic, the font file that the `japanize-matplotlib` package
ships (its fonts/ipaexg.ttf; IPA Font License). The package is located without importing it
(importing it would change matplotlib's global settings), and nothing is ever downloaded.
Matplotlib draws with the Agg backend on a `Figure` of its own: no pyplot, no display. Font
settings are process-wide in matplotlib, so charts are drawn one at a time.
"""

from __future__ import annotations

import importlib.util
import io
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib import colormaps, font_manager
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator

from bot.domain.statistics import HistoryPoint, PrefectureCoverage
from bot.i18n import Language, t

FONT_PACKAGE = "japanize_matplotlib"
FONT_FILE = Path("fonts") / "ipaexg.ttf"
DPI = 100
MEMBERS_SIZE = (10.0, 5.6)  # inches: 1000 × 560 px
MAP_SIZE = (10.0, 9.0)  # 1000 × 900 px

MEMBERS_COLOUR = "#1d3557"
ACTIVE_COLOUR = "#e76f51"
NO_DATA_COLOUR = "#d9d9d9"
COLOUR_MAP = "YlGnBu"

_DRAWING = threading.Lock()


class FontMissing(RuntimeError):
    """The packaged Japanese font is not installed: `pip install japanize-matplotlib`."""


@dataclass(frozen=True)
class PrefectureTile:
    code: str  # JIS X 0401
    label_ja: str  # the short name people write on maps: 北海道, 青森, 東京 …
    label_en: str
    column: int  # 0 = west
    row: int  # 0 = north


# A tile grid in the usual shape: Hokkaido at the top right, Tohoku down the east edge,
# the main island west to east across rows 4–7 with Shikoku and Kyushu below it to the
# south-west, and Okinawa alone at the bottom left. Each tile touches its neighbours.
PREFECTURE_TILES: tuple[PrefectureTile, ...] = (
    PrefectureTile("01", "北海道", "Hokkaido", 11, 0),
    PrefectureTile("02", "青森", "Aomori", 11, 1),
    PrefectureTile("03", "岩手", "Iwate", 11, 2),
    PrefectureTile("04", "宮城", "Miyagi", 11, 3),
    PrefectureTile("05", "秋田", "Akita", 10, 2),
    PrefectureTile("06", "山形", "Yamagata", 10, 3),
    PrefectureTile("07", "福島", "Fukushima", 11, 4),
    PrefectureTile("08", "茨城", "Ibaraki", 11, 6),
    PrefectureTile("09", "栃木", "Tochigi", 11, 5),
    PrefectureTile("10", "群馬", "Gunma", 10, 5),
    PrefectureTile("11", "埼玉", "Saitama", 10, 6),
    PrefectureTile("12", "千葉", "Chiba", 11, 7),
    PrefectureTile("13", "東京", "Tokyo", 10, 7),
    PrefectureTile("14", "神奈川", "Kanagawa", 9, 7),
    PrefectureTile("15", "新潟", "Niigata", 10, 4),
    PrefectureTile("16", "富山", "Toyama", 9, 4),
    PrefectureTile("17", "石川", "Ishikawa", 8, 4),
    PrefectureTile("18", "福井", "Fukui", 7, 4),
    PrefectureTile("19", "山梨", "Yamanashi", 9, 6),
    PrefectureTile("20", "長野", "Nagano", 9, 5),
    PrefectureTile("21", "岐阜", "Gifu", 8, 5),
    PrefectureTile("22", "静岡", "Shizuoka", 8, 7),
    PrefectureTile("23", "愛知", "Aichi", 8, 6),
    PrefectureTile("24", "三重", "Mie", 7, 6),
    PrefectureTile("25", "滋賀", "Shiga", 7, 5),
    PrefectureTile("26", "京都", "Kyoto", 6, 5),
    PrefectureTile("27", "大阪", "Osaka", 5, 6),
    PrefectureTile("28", "兵庫", "Hyogo", 5, 5),
    PrefectureTile("29", "奈良", "Nara", 6, 6),
    PrefectureTile("30", "和歌山", "Wakayama", 5, 7),
    PrefectureTile("31", "鳥取", "Tottori", 4, 5),
    PrefectureTile("32", "島根", "Shimane", 3, 5),
    PrefectureTile("33", "岡山", "Okayama", 4, 6),
    PrefectureTile("34", "広島", "Hiroshima", 3, 6),
    PrefectureTile("35", "山口", "Yamaguchi", 2, 6),
    PrefectureTile("36", "徳島", "Tokushima", 4, 8),
    PrefectureTile("37", "香川", "Kagawa", 4, 7),
    PrefectureTile("38", "愛媛", "Ehime", 3, 7),
    PrefectureTile("39", "高知", "Kochi", 3, 8),
    PrefectureTile("40", "福岡", "Fukuoka", 1, 6),
    PrefectureTile("41", "佐賀", "Saga", 0, 6),
    PrefectureTile("42", "長崎", "Nagasaki", 0, 7),
    PrefectureTile("43", "熊本", "Kumamoto", 1, 7),
    PrefectureTile("44", "大分", "Oita", 2, 7),
    PrefectureTile("45", "宮崎", "Miyazaki", 2, 8),
    PrefectureTile("46", "鹿児島", "Kagoshima", 1, 8),
    PrefectureTile("47", "沖縄", "Okinawa", 0, 9),
)


# --- the font -----------------------------------------------------------------------------------


@cache
def font_path() -> Path:
    """IPAexGothic inside the installed japanize-matplotlib package (found, not imported)."""
    spec = importlib.util.find_spec(FONT_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        candidate = Path(location) / FONT_FILE
        if candidate.is_file():
            return candidate
    raise FontMissing(
        "日本語フォント（japanize-matplotlib の IPAexGothic）が見つかりません。"
        " / The Japanese font (IPAexGothic from japanize-matplotlib) is not installed."
    )


@cache
def font_family() -> str:
    path = font_path()
    font_manager.fontManager.addfont(str(path))
    return str(font_manager.FontProperties(fname=str(path)).get_name())


@contextmanager
def _drawing() -> Iterator[None]:
    # Only the packaged font: a missing glyph then warns instead of silently borrowing
    # whatever CJK font the machine happens to have.
    with (
        _DRAWING,
        matplotlib.rc_context({"font.family": [font_family()], "axes.unicode_minus": False}),
    ):
        yield


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()


def _thousands(value: float, _position: int) -> str:
    return f"{int(value):,}"


def _day(value: date, language: Language) -> str:
    return f"{value.month}/{value.day}" if language == "ja" else value.strftime("%b %-d")


# --- members over time --------------------------------------------------------------------------


def members_chart(points: Sequence[HistoryPoint], language: Language) -> bytes:
    """Members and members active in the last 30 days, week by week."""
    with _drawing():
        figure = Figure(figsize=MEMBERS_SIZE, dpi=DPI, layout="constrained")
        axes = figure.add_subplot()
        positions = list(range(len(points)))
        axes.plot(
            positions,
            [p.members for p in points],
            color=MEMBERS_COLOUR,
            linewidth=2.5,
            marker="o",
            markersize=4,
            label=t("dashboard.chart.members.members", language),
        )
        estimated = [(i, p.members) for i, p in enumerate(points) if p.estimated]
        if estimated:
            axes.plot(
                [i for i, _ in estimated],
                [v for _, v in estimated],
                linestyle="none",
                marker="o",
                markersize=5,
                markerfacecolor="white",
                markeredgecolor=MEMBERS_COLOUR,
                label=t("dashboard.chart.members.estimated", language),
            )
        active = [(i, p.active_30d) for i, p in enumerate(points) if p.active_30d is not None]
        if active:
            axes.plot(
                [i for i, _ in active],
                [v for _, v in active],
                color=ACTIVE_COLOUR,
                linewidth=2.5,
                marker="o",
                markersize=6,
                label=t("dashboard.chart.members.active", language),
            )
        if points:
            last = points[-1]
            axes.annotate(
                f"{last.members:,}",
                (positions[-1], last.members),
                xytext=(6, 4),
                textcoords="offset points",
                color=MEMBERS_COLOUR,
                fontsize=12,
            )
            if last.active_30d is not None:
                axes.annotate(
                    f"{last.active_30d:,}",
                    (positions[-1], last.active_30d),
                    xytext=(6, -14),
                    textcoords="offset points",
                    color=ACTIVE_COLOUR,
                    fontsize=12,
                )
            axes.set_xlim(-0.5, len(points) - 0.5 + 1.5)
            step = max(1, len(points) // 9)
            ticks = positions[::-1][::step][::-1]
            axes.set_xticks(ticks, [_day(points[i].at, language) for i in ticks])
        else:
            axes.text(
                0.5,
                0.5,
                t("dashboard.chart.no_data", language),
                transform=axes.transAxes,
                ha="center",
                va="center",
                fontsize=16,
                color="#666666",
            )
            axes.set_xticks([])
        # Room above the highest line for its label; never a range below 10 (no 0.1-person ticks).
        axes.set_ylim(0, max([p.members for p in points] + [10]) * 1.12)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.yaxis.set_major_formatter(FuncFormatter(_thousands))
        axes.grid(axis="y", color="#e0e0e0")
        axes.spines[["top", "right"]].set_visible(False)
        axes.set_title(t("dashboard.chart.members.title", language), fontsize=17, loc="left")
        axes.set_ylabel(t("dashboard.chart.members.axis", language), fontsize=12)
        axes.tick_params(labelsize=11)
        if points:
            axes.legend(loc="upper left", frameon=False, fontsize=11)
        return _png(figure)


# --- coverage by prefecture ---------------------------------------------------------------------


def coverage_map(
    coverage: Sequence[PrefectureCoverage],
    language: Language,
    *,
    covered: int,
    total: int,
) -> bytes:
    """Each prefecture a tile, coloured by the share of its local governments with a member."""
    by_code = {c.code: c for c in coverage}
    colour_map = colormaps[COLOUR_MAP]
    scale = Normalize(vmin=0.0, vmax=1.0)
    columns = max(tile.column for tile in PREFECTURE_TILES) + 1
    rows = max(tile.row for tile in PREFECTURE_TILES) + 1
    with _drawing():
        figure = Figure(figsize=MAP_SIZE, dpi=DPI, layout="constrained")
        axes = figure.add_subplot()
        for tile in PREFECTURE_TILES:
            found = by_code.get(tile.code)
            x, y = tile.column, rows - 1 - tile.row
            face = colour_map(scale(found.rate)) if found else NO_DATA_COLOUR
            axes.add_patch(
                Rectangle((x + 0.04, y + 0.04), 0.92, 0.92, facecolor=face, edgecolor="white")
            )
            dark = found is not None and found.rate > 0.55
            ink = "white" if dark else "#1a1a1a"
            label = tile.label_ja if language == "ja" else tile.label_en
            axes.text(
                x + 0.5,
                y + 0.64,
                label,
                ha="center",
                va="center",
                fontsize=11 if language == "ja" else 8,
                color=ink,
            )
            figures = f"{found.covered}/{found.local_governments}" if found else "—"
            axes.text(x + 0.5, y + 0.3, figures, ha="center", va="center", fontsize=9, color=ink)
        axes.set_xlim(-0.2, columns + 0.2)
        axes.set_ylim(-0.2, rows + 0.2)
        axes.set_aspect("equal")
        axes.axis("off")
        share = covered / total if total else 0.0
        axes.set_title(
            t("dashboard.chart.coverage.title", language)
            + "\n"
            + t(
                "dashboard.chart.coverage.subtitle",
                language,
                covered=f"{covered:,}",
                total=f"{total:,}",
                rate=f"{share:.1%}",
            ),
            fontsize=16,
            loc="left",
        )
        # The sea north-west of Tohoku is empty: the legend and the note go there.
        legend_axes = axes.inset_axes((0.02, 0.86, 0.45, 0.025))
        bar = figure.colorbar(
            ScalarMappable(norm=scale, cmap=colour_map),
            cax=legend_axes,
            orientation="horizontal",
            format=FuncFormatter(lambda v, _p: f"{v:.0%}"),
        )
        bar.set_label(t("dashboard.chart.coverage.legend", language), fontsize=10)
        bar.ax.tick_params(labelsize=9)
        axes.text(
            0.02,
            0.76,
            t("dashboard.chart.coverage.note", language),
            transform=axes.transAxes,
            fontsize=9,
            color="#555555",
            va="top",
        )
        return _png(figure)
