"""Confidentiality and handling labels: 機密性2/3, 部外秘, 関係者限り, 【秘】…

A label is flagged when it is used as a label, not when the classification scheme is being
discussed. Used as a label means:
- in brackets whose content is only labels (【機密性3】, (秘), [部外秘], 【取扱注意・機密性2】),
  which always counts;
- stamped at the start of a line (機密性3 / 取扱注意: …), or in a file name between delimiters;
- or anywhere in prose, unless the sentence is about the scheme: the term is quoted
  (「部外秘」と書かれた…), defined or compared (とは, の定義, の違い, 以上, 相当, に該当するか),
  negated (ではありません, のない), a rule is stated about it (…は投稿しないでください,
  …は了承が必要です), sharing is refused (…のため共有できません), or it is a question about
  the rules (…共有してもいいですか?).
Bare 秘 / 秘密 / マル秘 count only in brackets or stamped (秘密保持契約, 秘密にしておく and 秘訣 are
prose); 極秘 counts in prose only before 資料/文書/扱い/情報… (not 極秘プロジェクト, 極秘裏).
関係者限り / 庁内限り describing an event (…で開催, …の勉強会) is not a label. A stated consent
of one's organisation (了承を得て…) clears the 機密性2-type labels, which the platform allows with
consent; it never clears 機密性3.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bot.detectors.context import Protected, line_start, sentence
from bot.detectors.model import FindingKind, Hit, Rule, Severity

_LEVEL = (
    r"(?:自治体)?機密性[ ]?(?:(?:の)?(?:格付け?|区分|レベル|分類)[ ]?)?[:=]?[ ]?"
    r"\(?(?P<lvl>III|II|I|[123])\)?(?P<sub>[A-Ca-c])?(?![0-9A-Za-z])(?:[ ]?(?:区分|レベル))?"
)
_TERMS = re.compile(
    rf"(?P<level>{_LEVEL})"
    r"|(?P<strong>要機密情報|取り?扱い?制限|取り?扱い?注意(?!事項|点|喚起|書)"
    r"|関係者(?:限り?|外秘)|(?:庁|部|課|局|所|省|組織|団体)内(?:限り|限定)|[部課局社庁対]外秘)"
    r"|(?P<secret>極秘(?!裏)|秘密文書)"
    r"|(?P<stamp>秘密|丸秘|マル秘|秘)"
)
_QUICK = re.compile(r"機密|秘|扱|限|外秘")

_OPEN = "【\\[(<《〈〔〖"
_CLOSE = "】\\])>》〉〕〗"
_BEFORE_BRACKET = re.compile(rf"(?:[{_OPEN}]|&lt;)(?P<inner>[^{_OPEN}{_CLOSE}\n]*)$")
_AFTER_BRACKET = re.compile(rf"(?P<inner>[^{_OPEN}{_CLOSE}\n]*?)(?:[{_CLOSE}]|&gt;)")
_PURE_LABEL = re.compile(r"[\s・、,/|:_\-+&]*")
_QUOTES = {"「": "」", "『": "』", '"': '"', "“": "”", "'": "'", "‘": "’"}

# Bullets, numbering, bold, quote.
_LINE_PREFIX = re.compile(r"(?:[\s※■□◆◇●○・*\-•>#]|&gt;|\(?[0-9]{1,2}[).]?)*")
_STAMP_END = re.compile(r"$|[\s:|/_・*\-(]", re.MULTILINE)
# A stamp with nothing after it on its line, or a colon: a header, whatever follows.
_STAMP_ALONE = re.compile(r"[ ]*(?:\([^)\n]{0,12}\))?[ ]*(?:$|[:|])", re.MULTILINE)
_FILE_DELIMITER = "_-. ()[]【】　"

# Immediately after the term: the scheme is being defined, compared or negated.
_AFTER_META = re.compile(
    r"[ ]?(?:\)|」)?(?:の?(?:情報|資料|文書|データ|もの|ファイル))?(?:の|は|を|が|も|に)?[ ]?"
    r"(?:(?:取り?扱い?|扱い)(?:方|について|に関|は|を|が)|定義|範囲|考え方|判断|基準|運用|ルール"
    r"|分類(?!され|で管理)|区分(?!で管理|で保管|で保存)|格付け?(?![けさしてた済])|らしき|っぽい|のような|例(?!え)|違い|線引き|とは|って何|以上|以下|未満|相当"
    r"|該当(?:する|します)(?:か|かどうか|可能性|おそれ|恐れ)|(?:取り?)?扱う|とか|該当しない|該当せず|(?:当た|あた)(?:る|ります)か"
    r"|(?:スタンプ|印(?!刷)|マーク|表示|ラベル|シール|判子|はんこ)|では(?:ない|なく|ありません)"
    r"|じゃ(?:ない|なく|ありません)|と同じ|の?意味|など|等の|[^。\n]{0,12}(?:とき|場合|際)(?:の|に|は)"
    r"|でない|ない|なし|無し|含ま(?:れ)?(?:てい)?(?:ない|ず|ません)"
    r"|と(?:書|記載|入っ|表示|あ|いう|いった|言|の(?:記載|表示)))"
)
# The handling of the class (機密性3情報の取扱いの早見表), unlike 機密性3扱いの資料 (a label).
_HANDLING = re.compile(
    r"[ ]?(?:の?(?:情報|資料|文書|データ|もの))?の(?:取り?扱い?|扱い)(?!で|と(?:し|す))"
)
# Putting the label on things is the topic: 【取扱注意】を付ける運用.
_ATTACHING = re.compile(r"[ ]?(?:って|と|を|が|の)?(?:付け|つけ|付与|付い|押|記載し|表示し)")
_EVENT = re.compile(
    r"[ ]?(?:で|の|と(?:して|し))?[ ]?(?:開催|実施|試行|運用|公開|配布|募集|参加|行|会議|説明会|勉強会"
    r"|研修|イベント|会合|打ち?合わ?せ|ミーティング|取組|意見交換|検討会|懇談会|視察|セミナー)"
)
_SECRET_FOLLOW = re.compile(
    r"[ ]?(?:文書|資料|扱い|情報|事項|です|につき|のため|とする|指定|案件|データ|ファイル)"
)
# A rule stated about the class: 機密性3の情報は投稿しないでください / 機密性2は了承が必要です.
_TOPIC = re.compile(r"(?:の(?:情報|資料|文書|データ|もの))?(?:は|も)")
_RULE_WORDS = re.compile(
    r"必要|要する|できる|できます|できない|できません|可能|不可|禁止|厳禁|NG|ダメ|だめ|扱え|扱わ"
    r"|投稿し|共有し|ご遠慮|控え|避け|ように|べき|なければ|いけない|なりません|すること|しないこと"
    r"|に限る|暗号化"
)
_REFUSAL = re.compile(
    r"(?:扱え|扱わ|投稿|掲載|共有|公開|アップ|載せ|貼|添付|送信|お伝え|お見せ|説明|開示|出せ|入力"
    r"|持ち出|外に出|出さ)"
    r"[^。!?\n]{0,8}?(?:ない|ません|不可|禁止|厳禁|NG|ダメ|控え|遠慮|避け|割愛)"
    r"|割愛|差し控え"
)
_QUESTION = re.compile(r"\?|(?:です|ます|でしょう|ません)か|っけ|かな|かね")
_QUESTION_ABOUT_RULES = re.compile(
    r"違い|定義|とは|該当|判断|扱|投稿|共有|掲載|載せ|アップ|貼|ルール|基準|いい|よい|良い|大丈夫"
    r"|問題な|可能|OK|構わ|差し支え|べき"
)
_SCHEME_WORDS = re.compile(
    r"格付け?(?![けさしてた済])|区分(?:を|が|は|け|の(?:見直|廃止|統合))|運用|一本化|細分化|統一基準|セキュリティポリシー|ガイドライン|対策基準|規程|規則|要領|ルール"
)
# A field naming the class: 格付：機密性3A, 区分: 機密性2.
_LABEL_FIELD = re.compile(r"(?:格付け?|区分|分類|機密区分|取扱区分)[ ]?[:=][ ]?$")
_CONSENT = re.compile(
    r"(?:了承|承認|許可|同意|決裁)(?:を得|を取|を受|済|を?もら|を?いただ|取得|[をが]?(?:得て|取って))"
)

# A list introduced as what must not be posted: 次の情報は投稿しないでください。\n・機密性3の情報
_RULE_LIST_INTRO = re.compile(
    r"(?:投稿|掲載|共有|書|載せ|アップ|貼|扱)[^\n]{0,12}"
    r"(?:ないで|ません|禁止|厳禁|ご遠慮|控え|NG|できない|不可|いけない|ダメ)"
    r"|(?:NG|禁止|ダメ|だめ|不可)な?(?:もの|情報|こと)|約束事|禁止事項|注意事項|どれ(?:か|ですか)|次のうち"
)
_RULE_LIST_REACH = 160

IN_PROSE = 0.8  # the confidence of a label found in running text
_PREVIOUS_SENTENCE = 30  # …本文に貼ります。機密性3B\n…
_NEXT_SENTENCE = 60  # what is handed over may follow the label: 機密性3（…）\n…のリストです
_HANDING_OVER = re.compile(
    r"貼り?ます|貼っ|添付|共有します|送ります|載せます|アップします|置きます|転記|以下|下記|こちら"
    r"|(?:資料|文書|情報|データ|ファイル|記録|案|結果|一覧|名簿|台帳)(?:です|になります|を)"
    r"|扱いで|としてお願い|お願いします|ご確認|見てください|ください|です|でした|になります|指定"
    r"|上げました|アップしました|として扱|抜粋|一覧|リスト|内訳|案(?:$|\n)"
)

_LEVEL_DIGIT = {"III": "3", "II": "2", "I": "1"}


def detect(text: str, protected: Protected, *, file_name: bool = False) -> Iterator[Hit]:
    if not _QUICK.search(text):
        return
    consent = _CONSENT.search(text) is not None
    for match in _TERMS.finditer(text):
        start, end = match.span()
        if protected.covers(start, end):
            continue
        group = match.lastgroup or ""
        level = ""
        if group == "level":
            level = _LEVEL_DIGIT.get(match.group("lvl"), match.group("lvl"))
            if level == "1":
                continue
        decision = _decide(text, match, group, file_name)
        if decision is None:
            continue
        if level == "3":
            kind, rule = FindingKind.CONFIDENTIALITY_3, Rule.CONFIDENTIALITY_3
            severity = Severity.CASE if _applied(text, match, decision) else Severity.WARN
        else:
            kind, severity = FindingKind.CONFIDENTIALITY_LABEL, Severity.WARN
            rule = (
                Rule.CONFIDENTIALITY_3 if group in ("secret", "stamp") else Rule.CONFIDENTIALITY_2
            )
            if rule is Rule.CONFIDENTIALITY_2 and consent:
                continue
        label = f"機密性{level}{(match.group('sub') or '').upper()}" if level else match.group()
        yield Hit(kind, rule, severity, start, end, label, decision)


def _decide(text: str, match: re.Match[str], group: str, file_name: bool) -> float | None:
    """Confidence that this occurrence is used as a label, or None when it is not."""
    start, end = match.span()
    term = match.group()
    bracket_from = end - 1 if term.endswith(")") and "(" not in term else end  # (機密性3)
    closing = _bracket_end(text, start, bracket_from)
    if closing >= 0:  # a label, unless it is mentioned: （取扱注意）とありますが…
        mentioned = _AFTER_META.match(text, closing) or _ATTACHING.match(text, closing)
        refused = _REFUSAL.search(text, closing, sentence(text, start, closing)[1])
        return None if mentioned or refused or _in_rule_list(text, start) else 0.95
    if _LABEL_FIELD.search(text, max(0, start - 8), start):
        return 0.9
    stamped = _stamped(text, start, end, file_name)
    if group == "stamp":
        return 0.9 if stamped else None
    secret_word = group == "secret" and match.group() == "極秘"
    if secret_word and not stamped and not _SECRET_FOLLOW.match(text, end):
        return None
    if _quoted(text, start, end):
        return None
    if _AFTER_META.match(text, end) or _HANDLING.match(text, end):
        return None
    if group == "strong" and ("限" in match.group()) and _EVENT.match(text, end):
        return None
    if stamped and _STAMP_ALONE.match(text, end):
        return 0.9
    sentence_start, sentence_end = sentence(text, start, end)
    topic = _TOPIC.match(text, end)
    if topic and _RULE_WORDS.search(text, topic.end(), sentence_end):
        return None
    if _REFUSAL.search(text, end, sentence_end):
        return None
    whole = text[sentence_start : sentence_end + 1]  # with its ? or 。
    if _QUESTION.search(whole) and _question_about_rules(text, sentence_start, sentence_end, match):
        return None
    if _in_rule_list(text, start):
        return None
    if _SCHEME_WORDS.search(whole):
        return None
    return 0.9 if stamped else IN_PROSE


def _applied(text: str, match: re.Match[str], confidence: float) -> bool:
    """Whether the label is applied to something being shared here: always for a bracketed,
    stamped or field label; in prose only when the sentence or the next hands something over (…の資料です,
    貼ります, 添付します, …の扱いでお願いします). A case costs the secretariat's time, so prose
    that merely names the class warns without opening one."""
    if confidence > IN_PROSE:
        return True
    low, high = sentence(text, *match.span())
    low, high = max(0, low - _PREVIOUS_SENTENCE), min(len(text), high + _NEXT_SENTENCE)
    return _HANDING_OVER.search(text, low, high) is not None


def _question_about_rules(text: str, low: int, high: int, term: re.Match[str]) -> bool:
    """Rule words in the sentence, outside the label itself (機密性3B扱いの… is the label)."""
    start, end = term.span()
    label_end = end + 2 if text.startswith("扱い", end) else end
    return bool(
        _QUESTION_ABOUT_RULES.search(text, low, start)
        or _QUESTION_ABOUT_RULES.search(text, label_end, high + 1)
    )


def _in_rule_list(text: str, start: int) -> bool:
    """On a bullet under a line saying the items below must not be posted."""
    line = line_start(text, start)
    bullet = _LINE_PREFIX.match(text, line)
    if line == 0 or bullet is None or (bullet.end() == line and start != line):
        return False
    return _RULE_LIST_INTRO.search(text, max(0, line - _RULE_LIST_REACH), line) is not None


def _bracket_end(text: str, start: int, end: int) -> int:
    """Offset after the closing bracket when the term sits in brackets holding only labels,
    else -1."""
    before = _BEFORE_BRACKET.search(text, max(0, start - 16), start)
    if before is None:
        return -1
    after = _AFTER_BRACKET.match(text, end, min(len(text), end + 16))
    if after is None:
        return -1
    inner = before.group("inner") + after.group("inner")
    return after.end() if _PURE_LABEL.fullmatch(_TERMS.sub("", inner)) else -1


def _quoted(text: str, start: int, end: int) -> bool:
    """「部外秘」, 「極秘・秘・取扱注意」 (labels named, not applied), or a quoted rule or quiz
    (「機密性3の資料は投稿しない」)."""
    opening = max(text.rfind(quote, max(0, start - 60), start) for quote in _QUOTES)
    if opening < 0 or text.find("\n", opening, start) >= 0:
        return False
    closing = text.find(_QUOTES[text[opening]], end)
    if closing < 0 or text.find("\n", end, closing) >= 0:
        return False
    inner = text[opening + 1 : start] + text[end:closing]
    if _PURE_LABEL.fullmatch(_TERMS.sub("", inner)):
        return True
    quoted = text[opening + 1 : closing]
    asked = _QUESTION.search(quoted) or quoted.endswith("か")
    return bool(_RULE_WORDS.search(quoted) or _REFUSAL.search(quoted) or asked)


def _stamped(text: str, start: int, end: int, file_name: bool) -> bool:
    if file_name:
        before_ok = start == 0 or text[start - 1] in _FILE_DELIMITER
        after_ok = end == len(text) or text[end] in _FILE_DELIMITER
        return before_ok and after_ok
    prefix_start = line_start(text, start)
    if _LINE_PREFIX.fullmatch(text, prefix_start, start) is None:
        return False
    return _STAMP_END.match(text, end) is not None
