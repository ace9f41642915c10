"""Whether a channel message asks something, and what of it to search for.

Cheap and pure: it runs on every message of a channel that wants suggestions, before any
database work. It errs towards silence: an invitation (参加しませんか), an announcement or a
one-word reaction (え？) is not a question worth answering with past answers."""

from __future__ import annotations

import re
import unicodedata

MIN_CORE = 6  # characters left to search for: 「え？」「本当?」 are reactions, not questions
MAX_TEXT = 1500  # a long post with a question mark in it is a report, not a question

# Slack's markup that carries no words of the question: mentions, channel links, links,
# emoji codes, code and quotes (a quoted question is someone else's).
_MARKUP = (
    re.compile(r"```.*?```", re.DOTALL),
    re.compile(r"`[^`\n]*`"),
    re.compile(r"^>.*$", re.MULTILINE),
    re.compile(r"<[^<>\n]*>"),
    re.compile(r"https?://\S+"),
    re.compile(r":[a-z0-9_+\-]+:"),
)

# What a question says in Japanese and English (after NFKC and lower case).
_ASKING = re.compile(
    r"\?"
    r"|教えて(?:ください|下さい|いただ|頂|ほしい|欲しい|もらえ|くれ)|おしえて|ご教示"
    r"|ご存[知じ]|知りたい|わかる方|分かる方|詳しい方|伺いたい|お聞きしたい|どなたか"
    r"|質問です|質問させて|相談です|ご相談させて"
    r"|でしょうか|ますか|ですか"
    r"|方法は\s*(?:$|。)|どうすれば|どうしたら|どのように|どうやって|どこで(?!も)|どこに(?!も)|いつまで"
    r"|\bhow (?:do|can|should|to)\b|\bdoes anyone\b|\banyone know\b|\bis there\b"
    r"|\bwhere (?:can|do|is)\b|\bwhat is\b",
    re.MULTILINE,
)

# Said around a question, searched for nothing: greetings, thanks, the asking itself.
_FILLER = re.compile(
    r"お疲れ様です|お疲れさまです|おつかれさまです|お世話になっております|お世話になります"
    r"|こんにちは|はじめまして|初めまして|よろしくお願い(?:いた|致)?します|よろしくお願いいたします"
    r"|よろしくお願いします|ありがとうございます"
    r"|教えて(?:いただけ|頂け)(?:ますか|ませんか|ないでしょうか)|教えてください|教えて下さい"
    r"|ご教示(?:いただけ|頂け)(?:ますか|ませんか|ないでしょうか)|ご教示ください|ご教示下さい"
    r"|ご存[知じ]の方(?:は)?(?:いらっしゃいますか|いませんか|おられますか)?"
    r"|でしょうか|ますか|ですか|質問です|質問させてください|ご相談です"
)
_SPACES = re.compile(r"\s+")
# Hiragana runs of three or more are the grammar of the question (どこに, すればいい, について),
# not its subject; shorter ones stay, as okurigana join kanji into one key (申し込み → 申込).
_LONG_HIRAGANA = re.compile(r"[\u3041-\u309f]{3,}")


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").lower()
    for pattern in _MARKUP:
        text = pattern.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def question_core(text: str) -> str:
    """The words of a question to search for: markup, greetings and the asking removed."""
    return _core_of_plain(_plain(text))


def _core_of_plain(plain: str) -> str:
    core = _FILLER.sub(" ", plain)
    core = _LONG_HIRAGANA.sub(" ", core.replace("?", " "))
    return _SPACES.sub(" ", core).strip(" 。、.,!")


def looks_like_question(text: str) -> bool:
    if not text or len(text) > MAX_TEXT:
        return False
    plain = _plain(text)
    if not _ASKING.search(plain):
        return False
    return len(_core_of_plain(plain)) >= MIN_CORE
