"""Japan's regions as the platform groups prefectures for its ambassadors (地方区分): seven
regions, 北海道 counted with 東北 and 沖縄 with 九州. Pure data."""

from __future__ import annotations

from types import MappingProxyType

# key -> (Japanese name, English name, prefectures in the national code's order)
_REGIONS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "hokkaido_tohoku": (
        "北海道・東北",
        "Hokkaido and Tohoku",
        ("北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県"),
    ),
    "kanto": (
        "関東",
        "Kanto",
        ("茨城県", "栃木県", "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県"),
    ),
    "chubu": (
        "中部",
        "Chubu",
        (
            "新潟県",
            "富山県",
            "石川県",
            "福井県",
            "山梨県",
            "長野県",
            "岐阜県",
            "静岡県",
            "愛知県",
        ),
    ),
    "kinki": (
        "近畿",
        "Kinki",
        ("三重県", "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県"),
    ),
    "chugoku": ("中国", "Chugoku", ("鳥取県", "島根県", "岡山県", "広島県", "山口県")),
    "shikoku": ("四国", "Shikoku", ("徳島県", "香川県", "愛媛県", "高知県")),
    "kyushu_okinawa": (
        "九州・沖縄",
        "Kyushu and Okinawa",
        ("福岡県", "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県"),
    ),
}

REGION_KEYS: tuple[str, ...] = tuple(_REGIONS)
PREFECTURES: tuple[str, ...] = tuple(p for _, _, prefs in _REGIONS.values() for p in prefs)
REGION_OF: MappingProxyType[str, str] = MappingProxyType(
    {prefecture: key for key, (_, _, prefs) in _REGIONS.items() for prefecture in prefs}
)


def region_name(key: str, language: str) -> str:
    ja, en, _ = _REGIONS[key]
    return en if language == "en" else ja


def prefectures_of(key: str) -> tuple[str, ...]:
    return _REGIONS[key][2]
