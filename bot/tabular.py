"""Reading a spreadsheet's text export, shared by the file importers: the encoding, the CSV
records and the header keys. Each importer turns these outcomes into its own errors."""

from __future__ import annotations

import codecs
import csv
import io
import re

from bot.text import nfkc

_ENCODINGS_WITHOUT_BOM = ("utf-8", "cp932")  # cp932: Shift_JIS as Windows writes it (①, ㈱, …)
# Control characters no text file holds, and what Python's cp932 makes of bytes that are not
# Shift_JIS at all (0x80, 0xA0, 0xFD–0xFF): signs of a binary file, not of text.
_BINARY = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\uf8f0-\uf8f3]")


def decode_text(data: bytes) -> tuple[str, str] | None:
    """(text, encoding): UTF-8 or UTF-16 by their BOM, else UTF-8, else CP932; None when no
    encoding gives text (encoding: utf-8-sig | utf-8 | cp932 | utf-16)."""
    if data.startswith(codecs.BOM_UTF8):
        encodings: tuple[str, ...] = ("utf-8-sig",)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ("utf-16",)
    else:
        encodings = _ENCODINGS_WITHOUT_BOM
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if not _BINARY.search(text):
            return text, encoding
    return None


class CsvSyntaxError(Exception):
    """The text is not CSV from `line` on (a stray quote, …)."""

    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def csv_delimiter(text: str) -> str:
    """A tab when the first line holds more tabs than commas (Excel's "Unicode text")."""
    first_line = text.split("\n", 1)[0]
    return "\t" if first_line.count("\t") > first_line.count(",") else ","


def csv_records(text: str) -> list[tuple[int, list[str]]]:
    """(the line a record starts on, its cells), from the header on: blank lines above it are
    dropped; [] when there is no header. Raises CsvSyntaxError."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=csv_delimiter(text), strict=True)
    records: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            records.append((start, cells))
            start = reader.line_num + 1
    except csv.Error:
        raise CsvSyntaxError(reader.line_num) from None
    while records and not any(cell.strip() for cell in records[0][1]):
        records.pop(0)
    return records


_NOTE_IN_BRACKETS = re.compile(r"[(\[【<「][^)\]】>」]*[)\]】>」]")
_PUNCTUATION = re.compile(r"[\s_\-・:;*※.。,、?？!！/／'\"`]+")


def header_key(header: str) -> str:
    """A header as compared: NFKC, casefolded, without a note in brackets, spaces or
    punctuation (`メールアドレス（必須）` → `メールアドレス`, `E-mail Address` → `emailaddress`)."""
    text = nfkc(header).casefold()
    text = _NOTE_IN_BRACKETS.sub("", text)
    return _PUNCTUATION.sub("", text)
