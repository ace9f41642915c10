"""The columns of a form's CSV export, recognised by their header (Japanese or English).

Headers are matched after NFKC, without spaces, punctuation or a note in brackets
(`メールアドレス（必須）` is `メールアドレス`)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from bot.tabular import header_key


class Column(StrEnum):
    NAME = "name"
    EMAIL = "email"
    ORGANISATION_CODE = "organisation_code"
    AGENCY = "agency"
    ORGANISATION = "organisation"  # a name: 札幌市, 北海道札幌市, デジタル庁
    PREFECTURE = "prefecture"
    DEPARTMENT = "department"
    RULES = "rules"
    LANGUAGE = "language"
    PREVIOUS_EMAIL = "previous_email"  # an earlier account's address (one person, one account)
    IGNORED = "ignored"  # known and not needed: timestamps, row numbers


REQUIRED_COLUMNS = (Column.NAME, Column.EMAIL)

# Header names as forms write them, compared after `header_key()`.
HEADER_ALIASES: Mapping[Column, tuple[str, ...]] = MappingProxyType(
    {
        Column.NAME: (
            "氏名",
            "名前",
            "お名前",
            "氏名漢字",
            "フルネーム",
            "申請者氏名",
            "申請者名",
            "name",
            "fullname",
            "yourname",
            "applicantname",
        ),
        Column.EMAIL: (
            "メールアドレス",
            "メール",
            "eメール",
            "eメールアドレス",
            "電子メール",
            "電子メールアドレス",
            "連絡先メールアドレス",
            "email",
            "emailaddress",
            "mail",
            "mailaddress",
        ),
        Column.ORGANISATION_CODE: (
            "団体コード",
            "地方公共団体コード",
            "全国地方公共団体コード",
            "自治体コード",
            "市区町村コード",
            "code",
            "organisationcode",
            "organizationcode",
            "lgcode",
            "localgovernmentcode",
        ),
        Column.AGENCY: (
            "機関",
            "機関名",
            "府省庁",
            "府省庁名",
            "省庁",
            "省庁名",
            "府省",
            "政府機関",
            "所属機関",
            "agency",
            "agencyslug",
            "ministry",
            "governmentorganisation",
            "governmentorganization",
        ),
        Column.ORGANISATION: (
            "所属",
            "所属団体",
            "所属団体名",
            "団体名",
            "自治体名",
            "所属自治体",
            "所属組織",
            "組織名",
            "所属先",
            "organisation",
            "organization",
            "organisationname",
            "organizationname",
            "affiliation",
        ),
        Column.PREFECTURE: ("都道府県", "都道府県名", "prefecture"),
        Column.DEPARTMENT: (
            "部署",
            "部署名",
            "所属部署",
            "所属部署名",
            "所属課",
            "部局",
            "課名",
            "department",
            "division",
            "section",
            "dept",
        ),
        Column.RULES: (
            "利用規約",
            "利用規約への同意",
            "利用規約に同意",
            "利用規約に同意します",
            "利用規約に同意する",
            "規約への同意",
            "規約に同意",
            "規約同意",
            "同意",
            "同意確認",
            "同意事項",
            "rules",
            "agreetotherules",
            "agreetorules",
            "rulesaccepted",
            "agreement",
            "consent",
            "terms",
            "termsaccepted",
        ),
        Column.LANGUAGE: ("言語", "使用言語", "希望言語", "language", "lang"),
        Column.PREVIOUS_EMAIL: (
            "以前のメールアドレス",
            "以前のアカウントのメールアドレス",
            "旧メールアドレス",
            "前のメールアドレス",
            "previousemail",
            "previousemailaddress",
            "formeremail",
            "oldemail",
        ),
        Column.IGNORED: (
            "タイムスタンプ",
            "回答日時",
            "送信日時",
            "申請日",
            "申請日時",
            "受付日時",
            "開始時刻",
            "完了時刻",
            "最終更新日時",
            "no",
            "番号",
            "連番",
            "timestamp",
            "submittedat",
            "starttime",
            "completiontime",
            "lastmodifiedtime",
        ),
    }
)

_BY_KEY: Mapping[str, Column] = MappingProxyType(
    {alias: column for column, aliases in HEADER_ALIASES.items() for alias in aliases}
)


def column_for(header: str) -> Column | None:
    """The column a header names, or None when it is not understood."""
    return _BY_KEY.get(header_key(header))


_YES = frozenset(
    [
        "はい",
        "yes",
        "y",
        "true",
        "1",
        "✓",
        "✔",
        "○",
        "〇",
        "◯",
        "●",
        "済",
        "同意",
        "agree",
        "agreed",
    ]
)
_NO_WORDS = ("しない", "しません", "不同意", "いいえ", "not", "disagree", "no")


def agreed(value: str) -> bool:
    """Whether a form's answer in the rules column says yes (`同意します`, `はい`, `✓`, …)."""
    text = header_key(value)
    if not text:
        return False
    if text in _YES:
        return True
    if any(word in text for word in _NO_WORDS):
        return False
    return "同意" in text or text.startswith("agree") or text.startswith("accept")
