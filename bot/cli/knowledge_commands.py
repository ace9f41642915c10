"""`kyoso knowledge`: the workspace's kept answers for operators.

    kyoso knowledge import FILE [--dry-run] [--lang ja|en]
    kyoso knowledge export [--format csv|jsonl] [--output FILE] [--lang ja|en]
    kyoso knowledge search "…" [--json] [--limit N] [--prefecture 岩手県]
    kyoso knowledge reindex
    kyoso knowledge synonyms show | load FILE
    kyoso knowledge cards

Exit codes: 0 done; 1 an import row was not stored (invalid or refused: the report says which
and why) or the synonym list was refused; 2 the file cannot be read or its columns are not
understood (the message says how to fix it, in Japanese and English), an unknown prefecture,
or the database is not migrated.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.cli.common import (
    EXIT_CONFIG,
    Subparsers,
    add_command,
    add_group,
    fail,
    load_core_settings,
    open_database,
)
from bot.domain.knowledge import FoundEntry
from bot.i18n import LANGUAGES, Language, t
from bot.services.audit import CLI_ACTOR
from bot.services.knowledge import cards, index, search, transfer, vocabulary
from bot.services.knowledge.transfer import (
    FileFormat,
    ImportContext,
    ParsedFile,
    RowResult,
    RowStatus,
    TransferFileError,
)
from models import Channel

EXIT_NOT_STORED = 1
DEFAULT_LIMIT = 10
_LANG_HELP = "表示の言語（既定: KYOSO_DEFAULT_LOCALE）/ language of the report (default: KYOSO_DEFAULT_LOCALE)"


def add_parser(commands: Subparsers) -> None:
    actions = add_group(
        commands,
        "knowledge",
        "ナレッジの取り込み・書き出し・検索・索引 / Import, export, search and index the knowledge",
        description="事務局の FAQ をファイルから取り込み、すべての項目を書き出し、検索を試し、"
        "索引・同義語・チャンネルカードを管理します。"
        " / Import the secretariat's FAQ from a file, export every entry, try searches, and "
        "manage the index, the synonym list and the channel cards.",
    )
    _add_import(actions)
    _add_export(actions)
    _add_search(actions)
    add_command(
        actions,
        "reindex",
        "検索の索引を作り直します / Rebuild the search index",
        description="すべての項目の検索キーと索引を作り直します（Kyoso の更新で単語の区切り方が"
        "変わったときや、索引の修復に）。"
        " / Recompute every entry's search keys and the whole index (after an upgrade changed "
        "the tokenizer, or to repair it).",
    ).set_defaults(handler=_reindex)
    _add_synonyms(actions)
    add_command(
        actions,
        "cards",
        "チャンネルカードを台帳に合わせます / Bring the channel cards in line with the registry",
        description="台帳の有効なチャンネルごとに検索できるカードを作成・更新し、アーカイブ済み・"
        "記録しない設定のチャンネルのカードを削除します（毎晩の定期ジョブと同じ処理）。"
        " / Create or update a searchable card for each active channel of the registry and "
        "remove the cards of archived or opted-out channels (what the nightly job does).",
    ).set_defaults(handler=_cards)


def _add_import(actions: Subparsers) -> None:
    imports = add_command(
        actions,
        "import",
        "FAQ をファイルから取り込みます / Import FAQ entries from a file",
        description="CSV（UTF-8・BOM 付き UTF-8・Shift_JIS）または JSON Lines から FAQ を取り込み"
        "ます。列: タイトル・質問・回答・タグ・ID・回答日・都道府県（日本語・英語）。個人情報は"
        "伏せて保存し、取扱いの表示（機密性2 など）がある行は取り込みません。同じ ID（なければ同じ"
        "質問）の行は、もう一度取り込むと更新されます。"
        " / Import FAQ entries from CSV (UTF-8, UTF-8 with BOM, Shift_JIS) or JSON Lines. "
        "Columns: title, question, answer, tags, id, answered_on, prefecture (Japanese or "
        "English). Personal data is masked; rows with a handling label are refused. Importing "
        "again updates the entries with the same id (else the same question).",
    )
    imports.add_argument(
        "file",
        type=Path,
        metavar="FILE",
        help="取り込むファイル（.csv・.jsonl）/ the file to import (.csv or .jsonl)",
    )
    imports.add_argument(
        "--dry-run",
        action="store_true",
        help="確認だけして保存しない / check and report every row, store nothing",
    )
    imports.add_argument("--lang", choices=LANGUAGES, help=_LANG_HELP)
    imports.set_defaults(handler=_import)


def _add_export(actions: Subparsers) -> None:
    exports = add_command(
        actions,
        "export",
        "すべての項目を書き出します / Export every entry",
        description="有効な項目をすべて書き出します（ID、種類、タイトル、質問、回答、タグ、"
        "チャンネル、スレッド、回答日、✅、役に立った、都道府県。人の名前や ID は含みません）。"
        "CSV は Excel で開ける UTF-8（BOM 付き）で、そのまま取り込み直せます。書き出しは監査ログに"
        "残ります。"
        " / Write every active entry (id, kind, title, question, answer, tags, channel, thread, "
        "answered date, ✅, helpful, prefecture; never people's names or ids). The CSV is UTF-8 "
        "with BOM for Excel and imports back as it is. Recorded in the audit log.",
    )
    exports.add_argument(
        "--format",
        choices=[f.value for f in FileFormat],
        default=FileFormat.CSV.value,
        help="形式（既定: csv）/ the format (default: csv)",
    )
    exports.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="書き出し先（省略時は標準出力）/ where to write (default: standard output)",
    )
    exports.add_argument(
        "--lang",
        choices=LANGUAGES,
        help="CSV の見出しの言語（既定: KYOSO_DEFAULT_LOCALE）/ language of the CSV headings "
        "(default: KYOSO_DEFAULT_LOCALE)",
    )
    exports.set_defaults(handler=_export)


def _add_search(actions: Subparsers) -> None:
    finds = add_command(
        actions,
        "search",
        "検索を試します / Try a search",
        description="メンバーが `/kyoso search` で見るのと同じ順位で結果を表示します（事務局の"
        "同義語を使います。検索されなかった語としては記録しません）。"
        " / Show the results in the order members see with `/kyoso search` (with the "
        "secretariat's synonyms; not recorded as a gap).",
    )
    finds.add_argument("query", metavar="QUERY", help="検索する言葉 / what to search for")
    finds.add_argument("--json", action="store_true", help="JSON で表示 / print JSON")
    finds.add_argument(
        "--limit",
        type=_limit,
        default=DEFAULT_LIMIT,
        metavar="N",
        help=f"表示する件数（1〜{search.MAX_RESULTS}、既定 {DEFAULT_LIMIT}）/ results to show "
        f"(1–{search.MAX_RESULTS}, default {DEFAULT_LIMIT})",
    )
    finds.add_argument(
        "--prefecture",
        metavar="岩手県",
        help="検索する人の都道府県（その都道府県の項目が少し上がります）/ the searcher's "
        "prefecture (its entries rank a little higher)",
    )
    finds.set_defaults(handler=_search)


def _add_synonyms(actions: Subparsers) -> None:
    synonyms = add_group(
        actions,
        "synonyms",
        "同義語の一覧を表示・置き換えます / Show or replace the synonym list",
        description="検索で同じ意味として扱う言葉の一覧です（1 行に 1 組、カンマ区切り）。"
        " / Words the search treats as meaning the same (one group per line, comma-separated).",
    )
    add_command(synonyms, "show", "一覧を表示します / Print the list").set_defaults(
        handler=_synonyms_show
    )
    load = add_command(
        synonyms,
        "load",
        "ファイルの内容で一覧を置き換えます / Replace the list with a file's",
        description="UTF-8 のテキストファイルで一覧を置き換えます（# で始まる行と空行は無視）。"
        "監査ログに残ります。"
        " / Replace the list with a UTF-8 text file (lines starting with # and blank lines are "
        "skipped). Recorded in the audit log.",
    )
    load.add_argument("file", type=Path, metavar="FILE", help="一覧のファイル / the list's file")
    load.set_defaults(handler=_synonyms_load)


def _limit(value: str) -> int:
    if value.isdigit() and 1 <= int(value) <= search.MAX_RESULTS:
        return int(value)
    raise argparse.ArgumentTypeError(
        f"1〜{search.MAX_RESULTS} の数を指定してください / give a number from 1 to "
        f"{search.MAX_RESULTS}"
    )


def _both(key: str, **params: str) -> str:
    return "\n".join(t(key, language, **params) for language in LANGUAGES)


# --------------------------------------------------------------------------------------
# import


def _import(args: argparse.Namespace) -> int:
    core = load_core_settings()
    language: Language = args.lang or core.default_locale
    try:
        parsed = transfer.read_path(args.file)
    except TransferFileError as error:
        print("\n".join(error.message(lang) for lang in LANGUAGES), file=sys.stderr)
        if error.problem in (
            transfer.FileProblem.UNKNOWN_COLUMNS,
            transfer.FileProblem.MISSING_COLUMNS,
        ):
            print(_accepted_columns(), file=sys.stderr)
        return EXIT_CONFIG
    session_factory = open_database(core.database_url)
    with session_factory() as session:
        prefectures = transfer.Prefectures.load(session)
    context = ImportContext(
        clock=args.clock, zone=core.zone, actor=CLI_ACTOR, prefectures=prefectures
    )
    if args.dry_run:
        # One transaction, rolled back: later rows see earlier ones (a key twice in the file
        # is reported as the update it would be), and nothing is kept.
        with session_factory() as session:
            results = [
                transfer.import_record(session, context=context, record=record)
                for record in parsed.records
            ]
            session.rollback()
    else:
        results = []
        for record in parsed.records:  # one transaction per row: what was stored stays
            with session_factory.begin() as session:
                results.append(transfer.import_record(session, context=context, record=record))
    print(render_table(results, language))
    print()
    print(_summary(args.file, parsed, results, language, dry_run=args.dry_run))
    return EXIT_NOT_STORED if any(r.status in transfer.NOT_STORED for r in results) else 0


def _accepted_columns() -> str:
    lines = [_both("knowledge.transfer.file.accepted_columns")]
    for name, aliases in transfer.HEADER_ALIASES.items():
        label = " / ".join(t(f"knowledge.transfer.column.{name.value}", lang) for lang in LANGUAGES)
        lines.append(f"  {label}: {', '.join(aliases)}")
    return "\n".join(lines)


def _summary(
    path: Path,
    parsed: ParsedFile,
    results: Sequence[RowResult],
    language: Language,
    *,
    dry_run: bool,
) -> str:
    counts = Counter(r.status for r in results)
    lines = [
        t(
            "knowledge.transfer.summary.read",
            language,
            path=str(path),
            rows=str(len(parsed.records)),
            format=t(f"knowledge.transfer.format.{parsed.format.value}", language),
            encoding=t(f"knowledge.transfer.encoding.{parsed.encoding}", language),
        ),
        t(
            "knowledge.transfer.summary.counts",
            language,
            **{status.value: str(counts[status]) for status in RowStatus},
        ),
    ]
    if parsed.blank_lines:
        lines.append(t("knowledge.transfer.summary.blank", language, count=str(parsed.blank_lines)))
    if dry_run:
        lines.append(t("knowledge.transfer.summary.dry_run", language))
    if any(r.status in transfer.NOT_STORED for r in results):
        lines.append(t("knowledge.transfer.summary.not_stored", language))
    return "\n".join(lines)


def _width(text: str) -> int:
    """Columns a terminal gives the text: East Asian wide and full-width characters take 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _clip(text: str, width: int) -> str:
    out = ""
    for ch in text:
        if _width(out + ch) > width - 1:
            return out + "…"
        out += ch
    return out


def _kinds(prefix: str, kinds: Sequence[str], language: Language) -> str:
    separator = t("knowledge.capture.list_separator", language)
    return separator.join(t(f"{prefix}.{kind}", language) for kind in kinds)


def _notes(result: RowResult, language: Language) -> list[str]:
    notes = [problem.text(language) for problem in result.problems]
    if result.labels:
        labels = _kinds("knowledge.capture.label", result.labels, language)
        notes.append(t("knowledge.transfer.refused", language, labels=labels))
    if result.masked:
        kinds = _kinds("knowledge.capture.kind", result.masked, language)
        notes.append(t("knowledge.transfer.masked", language, kinds=kinds))
    return notes


def render_table(results: Sequence[RowResult], language: Language) -> str:
    """One line per row (line, result, id, title), its reasons indented below."""
    header = [
        t(f"knowledge.transfer.table.{key}", language) for key in ("line", "result", "key", "title")
    ]
    rows = [
        [
            str(r.line),
            t(f"knowledge.transfer.status.{r.status.value}", language),
            _clip(r.key, 28) or "—",
            _clip(r.title, 40) or "—",
        ]
        for r in results
    ]
    widths = [max(_width(cells[i]) for cells in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(_pad(cell, widths[i]) for i, cell in enumerate(cells)).rstrip()

    out = [line(header), "  ".join("-" * w for w in widths)]
    for result, cells in zip(results, rows, strict=True):
        out.append(line(cells))
        out.extend(f"      • {note}" for note in _notes(result, language))
    return "\n".join(out)


# --------------------------------------------------------------------------------------
# export


def _export(args: argparse.Namespace) -> int:
    core = load_core_settings()
    language: Language = args.lang or core.default_locale
    session_factory = open_database(core.database_url)
    with session_factory.begin() as session:
        exported = transfer.export(
            session,
            clock=args.clock,
            zone=core.zone,
            actor=CLI_ACTOR,
            file_format=FileFormat(args.format),
            language=language,
        )
    if args.output is None:
        sys.stdout.write(exported.content.decode("utf-8-sig"))  # no BOM on a terminal
        sys.stdout.flush()
        where, report = "-", sys.stderr
    else:
        args.output.write_bytes(exported.content)
        where, report = str(args.output), sys.stdout
    written = [
        t("knowledge.transfer.exported", lang, rows=f"{exported.rows:,}", path=where)
        for lang in LANGUAGES
    ]
    print(" / ".join(written), file=report)
    return 0


# --------------------------------------------------------------------------------------
# search


_BOLD_MARKS = ("\u200b*", "*\u200b")  # bot/knowledge/snippets.py's bold, for Slack


def plain_snippet(snippet: str) -> str:
    """The snippet as a terminal shows it: no mrkdwn bold, Slack's escapes undone."""
    for mark in _BOLD_MARKS:
        snippet = snippet.replace(mark, "")
    return snippet.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _search(args: argparse.Namespace) -> int:
    core = load_core_settings()
    session_factory = open_database(core.database_url)
    with session_factory() as session:
        prefecture = None
        if args.prefecture:
            prefecture = transfer.Prefectures.load(session).resolve(args.prefecture)
            if prefecture is None:
                fail(_both("knowledge.cli.unknown_prefecture", value=args.prefecture))
        page = search.search(
            session,
            query=args.query,
            clock=args.clock,
            thesaurus=vocabulary.thesaurus(session),
            prefecture=prefecture,
            limit=args.limit,
        )
        channel_ids = {hit.channel_id for hit in page.hits if hit.channel_id}
        names: dict[str, str] = {
            slack_id: name
            for slack_id, name in session.execute(
                select(Channel.slack_channel_id, Channel.name).where(
                    Channel.slack_channel_id.in_(channel_ids)
                )
            )
        }
    results = [
        _result(rank, hit, names.get(hit.channel_id or ""), core.zone)
        for rank, hit in enumerate(page.hits, start=1)
    ]
    if args.json:
        print(
            json.dumps(
                {
                    "query": args.query,
                    "prefecture": prefecture,
                    "total": page.total,
                    "results": results,
                },
                ensure_ascii=False,
            )
        )
        return 0
    language: Language = core.default_locale
    if not results:
        print(t("knowledge.cli.search.none", language, query=args.query))
        return 0
    print(
        t(
            "knowledge.cli.search.total",
            language,
            query=args.query,
            total=str(page.total),
            shown=str(len(results)),
        )
    )
    for result in results:
        channel = f"#{result['channel_name']}" if result["channel_name"] else result["channel"]
        where = "  ".join(str(part) for part in (channel, result["answered_on"]) if part)
        print(f"{result['rank']:>2}. [{result['score']:.3f}] {result['title']}  ({where})")
        print(f"    {result['snippet']}")
    return 0


def _result(
    rank: int, hit: FoundEntry, channel_name: str | None, zone: ZoneInfo
) -> dict[str, object]:
    return {
        "rank": rank,
        "entry_id": hit.entry_id,
        "kind": hit.kind.value,
        "score": round(hit.score, 4),
        "relevance": round(hit.relevance, 4),
        "title": hit.title,
        "snippet": plain_snippet(hit.snippet),
        "channel": hit.channel_id,
        "channel_name": channel_name,
        "thread_ts": hit.thread_ts,
        "answered_on": hit.answered_at.astimezone(zone).date().isoformat(),
        "checks": hit.checks,
        "helpful": hit.helpful,
    }


# --------------------------------------------------------------------------------------
# reindex, synonyms, cards


def _reindex(args: argparse.Namespace) -> int:
    session_factory = open_database(load_core_settings().database_url)
    with session_factory.begin() as session:
        count = index.rebuild(session)
    print(_both("knowledge.cli.reindexed", count=f"{count:,}"))
    return 0


def _synonyms_show(args: argparse.Namespace) -> int:
    session_factory = open_database(load_core_settings().database_url)
    with session_factory() as session:
        print(vocabulary.as_text(session))
    return 0


def _synonyms_load(args: argparse.Namespace) -> int:
    path: Path = args.file
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        fail(_both("knowledge.transfer.file.not_found", path=str(path)))
    except OSError as exc:
        fail(_both("knowledge.transfer.file.unreadable", path=str(path), error=str(exc)))
    except UnicodeDecodeError:
        fail(_both("knowledge.cli.synonyms.not_utf8", path=str(path)))
    session_factory = open_database(load_core_settings().database_url)
    try:
        with session_factory.begin() as session:
            count = vocabulary.replace(session, clock=args.clock, actor=CLI_ACTOR, text=text)
    except vocabulary.TooManyGroups as exc:
        limit = f"{vocabulary.MAX_GROUPS:,}"
        fail(_both("knowledge.cli.synonyms.too_many", count=f"{exc.args[0]:,}", limit=limit), 1)
    print(_both("knowledge.cli.synonyms.loaded", count=f"{count:,}"))
    return 0


def _cards(args: argparse.Namespace) -> int:
    session_factory = open_database(load_core_settings().database_url)
    with session_factory.begin() as session:
        counts = cards.sync_channel_cards(session, clock=args.clock)
    print(_both("knowledge.cli.cards", **{k: f"{v:,}" for k, v in counts.as_dict().items()}))
    return 0
