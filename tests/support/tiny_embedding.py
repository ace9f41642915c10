"""A tiny static embedding model in model2vec's folder layout, built for tests.

The tokenizer is a real `tokenizers` one: text is NFKC-folded and lower-cased, split at
whitespace, then into Latin words and single characters (so Japanese, which has no spaces,
gives one token per character), each looked up in a word-level vocabulary of kana, a few
hundred common kanji and some ASCII words; anything else is [UNK]. The rows are seeded random
vectors, so the same call always builds the same files. `tie` gives a token the row of
another, the way a trained model puts words of the same meaning close together."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file
from tokenizers import Regex, Tokenizer, normalizers, pre_tokenizers
from tokenizers.models import WordLevel

UNKNOWN = "[UNK]"

HIRAGANA = "".join(chr(c) for c in range(ord("ぁ"), ord("ゖ") + 1))
KATAKANA = "".join(chr(c) for c in range(ord("ァ"), ord("ヺ") + 1)) + "ー"
KANJI = (
    "日本国県市町村区都道府庁役所課係長部局室員職公務省内外事業計画予算決算契約入札調達"
    "申請届出書類様式記入提出受付窓口相談問合確認承認許可登録変更更新廃止手続期限月年度"
    "週時分毎今前後上下中大小新旧多少全半各同他何誰者人方法制度規則条例要綱通知文"
    "電子情報移行導入運用保守管理設定接続端末回線網線閉域専用在宅勤務会議資料説明"
    "経費精算旅費給与支払請求領収税金額円予定実施報告調査結果分析評価改善課題対策検討"
    "住民票戸籍印鑑証明交付発行番号個人保護安全災害防災避難訓練福祉医療介護子育教育学校"
    "図館施設利用料金開閉休祝平土曜水木金火健康保険年金窓担当連絡先例外原則参考"
    "使用可能不要必要場合際等以外同時間回目次第一二三四五六七八九十百千万"
)
ASCII_WORDS = [
    "lgwan",
    "vpn",
    "cloud",
    "aws",
    "azure",
    "gcp",
    "api",
    "csv",
    "pdf",
    "excel",
    "word",
    "mail",
    "slack",
    "zoom",
    "teams",
    "faq",
    "pc",
    "it",
    "dx",
    "ai",
    "id",
    "password",
    "login",
    "server",
    "network",
    "wifi",
    "the",
    "a",
    "of",
    "to",
    "and",
    "in",
    "is",
]


def vocabulary() -> list[str]:
    tokens = [UNKNOWN, *HIRAGANA, *KATAKANA, *KANJI, *ASCII_WORDS]
    return list(dict.fromkeys(tokens))  # a character listed twice gets one id


def build_tokenizer(tokens: list[str]) -> Tokenizer:
    tokenizer = Tokenizer(WordLevel({token: i for i, token in enumerate(tokens)}, UNKNOWN))
    tokenizer.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.WhitespaceSplit(),
            pre_tokenizers.Split(Regex(r"[a-z0-9]+|."), behavior="isolated"),
        ]
    )
    return tokenizer


def build_tiny_model(folder: Path, *, dims: int = 16, tie: dict[str, str] | None = None) -> Path:
    """Write tokenizer.json, model.safetensors and config.json into `folder` (made if needed);
    `tie` maps a token to the token whose row it shares."""
    tokens = vocabulary()
    ids = {token: i for i, token in enumerate(tokens)}
    rows = np.random.default_rng(0).standard_normal((len(tokens), dims)).astype(np.float32)
    for token, same_as in (tie or {}).items():
        rows[ids[token]] = rows[ids[same_as]]

    folder.mkdir(parents=True, exist_ok=True)
    build_tokenizer(tokens).save(str(folder / "tokenizer.json"))
    save_file({"embeddings": rows}, str(folder / "model.safetensors"))
    config = {"model_type": "model2vec", "hidden_dim": dims, "normalize": True}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder
