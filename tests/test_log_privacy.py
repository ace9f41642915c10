"""Logs without personal data: no request bodies, no SQL parameters, a redaction filter as
the last line of defence, bounded lines, and a JSON format for log collectors."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import textwrap
import time
from urllib.parse import urlencode

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from bot.logging_setup import MAX_LINE_CHARS, make_handler, redact
from tests.support.slack_sender import FORM, JSON, SlackSender

MY_NUMBER = "123456789018"
EMAIL = "yamada.hanako@city.example.lg.jp"
NAME = "山田 花子"


def _body_with_personal_data() -> bytes:
    payload = {
        "type": "view_submission",
        "user": {"id": "U0VICTIM"},
        "view": {"state": {"values": {"b": {"a": {"value": f"{MY_NUMBER} {EMAIL}"}}}}},
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


# ---- rejected requests never reach the log -----------------------------------------------


@pytest.mark.parametrize("refusal", ["tampered", "bad-timestamp", "stale", "malformed"])
def test_a_rejected_requests_body_never_reaches_the_log(
    refusal: str, slack: SlackSender, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, every level
    body = _body_with_personal_data()
    if refusal == "tampered":
        response = slack.send(body, FORM, tamper=True)
    elif refusal == "bad-timestamp":
        response = slack.raw(
            body,
            {"Content-Type": FORM, "X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0="},
        )
    elif refusal == "stale":
        response = slack.send(body, FORM, timestamp=time.time() - 3600)
    else:
        response = slack.send(b"[" + body + b"]", JSON)  # signed, but not a Slack payload
    assert response.status in (400, 401)
    time.sleep(0.2)
    assert any("refused a request" in r.getMessage() for r in caplog.records)
    assert MY_NUMBER not in caplog.text
    assert EMAIL not in caplog.text


def test_an_oversized_unsigned_body_is_not_logged(
    slack: SlackSender, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = (f"payload={EMAIL}&" * 40_000).encode()  # 1.7 MB: over the gate's limit
    response = slack.raw(body, {"Content-Type": FORM})
    assert response.status == 413
    time.sleep(0.2)
    assert EMAIL not in caplog.text
    assert len(caplog.text) < 10_000


# ---- SQL errors do not carry their parameters --------------------------------------------


def test_an_sql_error_does_not_show_its_parameters(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(DBAPIError) as caught, engine.connect() as connection:
        connection.execute(
            text("SELECT * FROM no_such_table WHERE name = :name AND email = :email"),
            {"name": NAME, "email": EMAIL},
        )
    assert NAME not in str(caught.value) and EMAIL not in str(caught.value)
    logging.getLogger("kyoso.test").error("query failed: %s", caught.value, exc_info=caught.value)
    assert NAME not in caplog.text and EMAIL not in caplog.text


def test_a_constraint_violation_does_not_show_the_row(engine: Engine) -> None:
    """PostgreSQL quotes the offending values after DETAIL; the log handler masks them."""
    out = io.StringIO()
    logger = _logger_to(out, "text")
    with engine.connect() as connection:
        connection.execute(text("CREATE TEMPORARY TABLE privacy_probe (name VARCHAR(40) UNIQUE)"))
        connection.execute(text("INSERT INTO privacy_probe VALUES (:name)"), {"name": NAME})
        with pytest.raises(DBAPIError) as caught:
            connection.execute(text("INSERT INTO privacy_probe VALUES (:name)"), {"name": NAME})
        connection.rollback()
    logger.error("insert failed: %s", caught.value, exc_info=caught.value)
    assert "insert failed" in out.getvalue()
    assert NAME not in out.getvalue()


# ---- the redaction filter, line bounds and formats ---------------------------------------


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("number 123456789018 given", "number [redacted number] given"),
        ("1234 5678 9018", "[redacted number]"),
        ("1234-5678-9018", "[redacted number]"),
        ("１２３４－５６７８－９０１８", "[redacted number]"),
        ("１２３４ー５６７８ー９０１８", "[redacted number]"),
        ("１２３４　５６７８　９０１８", "[redacted number]"),
        ("tel 090-1234-5678.", "tel [redacted phone]."),
        ("(03) 1234-5678", "([redacted phone]"),
        ("０３－１２３４－５６７８", "[redacted phone]"),
        ("+81 90 1234 5678", "[redacted phone]"),
        ("mail a.b+c@example.lg.jp now", "mail [redacted email] now"),
        ("ｙａｍａｄａ＠ｃｉｔｙ．example.lg.jp", "[redacted email]"),
        ("DETAIL:  Key (email)=(x) already exists.", "DETAIL: [redacted]"),
        # Not personal data: left as they are.
        ("user U0123456789 in C0REVIEW", "user U0123456789 in C0REVIEW"),
        ("ts 1732410000.123456, 2026-11-24 01:00:00", "ts 1732410000.123456, 2026-11-24 01:00:00"),
        ("12345678901234 bytes", "12345678901234 bytes"),
        ("listening on 127.0.0.1:3000", "listening on 127.0.0.1:3000"),
    ],
)
def test_redact_masks_personal_patterns(raw: str, kept: str) -> None:
    assert redact(raw) == kept


def _logger_to(stream: io.StringIO, log_format: str) -> logging.Logger:
    logger = logging.getLogger(f"kyoso.privacy.{log_format}.{id(stream)}")
    logger.handlers = [make_handler(log_format, stream)]  # type: ignore[arg-type]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger


def test_the_filter_masks_arguments_and_exception_text() -> None:
    out = io.StringIO()
    logger = _logger_to(out, "text")
    try:
        raise ValueError(f"bad value {MY_NUMBER} from {EMAIL}")
    except ValueError as error:
        logger.error("member %s phone %s", EMAIL, "090-1234-5678", exc_info=error)
    written = out.getvalue()
    assert "ValueError" in written and "member [redacted email]" in written
    assert MY_NUMBER not in written and EMAIL not in written and "1234-5678" not in written


def test_long_lines_are_cut_and_say_so() -> None:
    out = io.StringIO()
    logger = _logger_to(out, "text")
    logger.info("%s", "x" * 100_000 + EMAIL)
    logger.info("short")
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert len(lines[0]) < MAX_LINE_CHARS + 200
    assert lines[0].endswith("x… [cut 96032 characters]")  # 100,032 characters were logged
    assert lines[1].endswith("short")


def test_a_number_straddling_the_cut_is_still_masked() -> None:
    out = io.StringIO()
    logger = _logger_to(out, "text")
    logger.info("%s", "x" * (MAX_LINE_CHARS - 6) + MY_NUMBER + "y" * 10_000)
    assert MY_NUMBER[:6] not in out.getvalue()


def test_json_format_writes_one_masked_object_per_line() -> None:
    out = io.StringIO()
    logger = _logger_to(out, "json")
    logger.warning("applicant %s", EMAIL)
    try:
        raise RuntimeError(MY_NUMBER)
    except RuntimeError as error:
        logger.error("failed\nsecond line", exc_info=error)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["level"] == "WARNING" and first["logger"].startswith("kyoso.privacy")
    assert first["message"] == "applicant [redacted email]"
    assert first["time"].endswith("+00:00")
    assert second["message"] == "failed\nsecond line"
    assert "RuntimeError: [redacted number]" in second["exception"]


def test_configure_logging_applies_format_and_masking_to_every_logger() -> None:
    script = textwrap.dedent(
        f"""
        import logging
        from bot.cli.common import configure_logging
        configure_logging("DEBUG", "json")
        logging.getLogger("waitress").error("peer %s", "{EMAIL}")
        logging.getLogger("slack_sdk.web").debug("payload {MY_NUMBER}")  # held back at DEBUG
        logging.getLogger("kyoso").debug("debug %s", "{MY_NUMBER}")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    entries = [json.loads(line) for line in result.stderr.splitlines()]
    assert [(e["logger"], e["message"]) for e in entries] == [
        ("waitress", "peer [redacted email]"),
        ("kyoso", "debug [redacted number]"),
    ]
