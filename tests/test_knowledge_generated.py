"""The optional generated answer, against a real HTTP server speaking chat completions."""

from __future__ import annotations

import logging
import socket
import time

import pytest

from bot.knowledge.generated import (
    MAX_SOURCE_CHARS,
    MAX_SOURCES,
    NO_RELEVANT_SOURCE,
    NOTHING_RELEVANT,
    AnswerWriter,
    GeneratedAnswer,
    Source,
    keep_known_citations,
)
from bot.settings import CoreSettings
from tests.support.fake_llm import FakeLlm, Mode

MODEL = "kyoso-test-model"
API_KEY = "sk-test-key"
# Written as a member would, with a name in it: it must never reach the logs.
QUESTION = "山田花子です。テレワークの申請書はどこに出せばよいですか？"
SOURCES = [
    Source(1, "テレワークの申請", "申請書は所属課の窓口に提出します。", "https://slack.example/a"),
    Source(2, "提出期限", "提出期限は毎月末日です。", None),
]


def _writer(llm: FakeLlm, *, timeout: float = 5.0, api_key: str | None = API_KEY) -> AnswerWriter:
    return AnswerWriter(llm.url, MODEL, api_key, timeout)


def test_the_request_carries_the_model_the_question_and_the_numbered_sources() -> None:
    with FakeLlm(Mode.CITED) as llm:
        _writer(llm).answer(QUESTION, SOURCES)
    [request] = llm.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.body["model"] == MODEL
    assert request.body["temperature"] == 0
    assert request.body["max_tokens"] == 400
    assert NO_RELEVANT_SOURCE in request.system_message
    assert "日本語" in request.system_message
    user = request.user_message
    assert QUESTION in user
    for source in SOURCES:
        assert f"[{source.number}] {source.title}" in user
        assert source.text in user
    assert "https://slack.example/a" not in user  # links are the caller's, not the model's


def test_without_an_api_key_no_authorization_is_sent() -> None:
    with FakeLlm(Mode.CITED) as llm:
        _writer(llm, api_key=None).answer(QUESTION, SOURCES)
    assert "Authorization" not in llm.requests[0].headers


def test_at_most_five_sources_are_sent_each_cut_to_length() -> None:
    many = [Source(n, f"資料{n}", f"{n}" + "あ" * 3000, None) for n in range(1, 8)]
    with FakeLlm(Mode.CITED) as llm:
        _writer(llm).answer(QUESTION, many)
    user = llm.requests[0].user_message
    assert [f"[{n}] 資料{n}" in user for n in range(1, 8)] == [True] * 5 + [False] * 2
    assert MAX_SOURCES == 5
    assert "あ" * (MAX_SOURCE_CHARS - 1) in user
    assert "あ" * MAX_SOURCE_CHARS not in user  # each text cut to 1,200 characters


def test_an_answer_keeps_its_real_citations_and_loses_invented_ones() -> None:
    with FakeLlm(Mode.CITED) as llm:
        outcome = _writer(llm).answer(QUESTION, SOURCES)
    assert isinstance(outcome, GeneratedAnswer)
    assert outcome.cited == (1,)
    assert "[1]" in outcome.text
    assert "[9]" not in outcome.text
    assert "月末までに提出してください。" in outcome.text  # no stray space where [9] was


def test_the_sentinel_means_nothing_relevant() -> None:
    with FakeLlm(Mode.NOTHING) as llm:
        assert _writer(llm).answer(QUESTION, SOURCES) is NOTHING_RELEVANT


@pytest.mark.parametrize(
    "reply", ["申請は窓口で受け付けています。", "申請は窓口で受け付けています[9]。", "  "]
)
def test_an_answer_citing_no_given_source_is_not_used(reply: str) -> None:
    with FakeLlm(Mode.CITED) as llm:
        llm.reply = reply
        assert _writer(llm).answer(QUESTION, SOURCES) is None


def test_no_sources_means_nothing_relevant_without_a_request() -> None:
    with FakeLlm(Mode.CITED) as llm:
        assert _writer(llm).answer(QUESTION, []) is NOTHING_RELEVANT
    assert llm.requests == []


def test_a_slow_endpoint_gives_none_within_the_timeout() -> None:
    with FakeLlm(Mode.SLOW, delay=2.0) as llm:
        started = time.monotonic()
        outcome = _writer(llm, timeout=0.5).answer(QUESTION, SOURCES)
        elapsed = time.monotonic() - started
    assert outcome is None
    assert elapsed < 1.5
    assert len(llm.requests) == 1


@pytest.mark.parametrize("mode", [Mode.ERROR, Mode.MALFORMED])
def test_an_error_status_or_a_malformed_reply_gives_none(mode: Mode) -> None:
    with FakeLlm(mode) as llm:
        assert _writer(llm).answer(QUESTION, SOURCES) is None
    assert len(llm.requests) == 1


def test_a_refused_connection_gives_none() -> None:
    with socket.socket() as probe:  # a port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    writer = AnswerWriter(f"http://127.0.0.1:{port}/v1/chat/completions", MODEL, None, 2.0)
    assert writer.answer(QUESTION, SOURCES) is None


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        (Mode.SLOW, "timed out"),
        (Mode.ERROR, "HTTP 500"),
        (Mode.MALFORMED, "not JSON"),
        (Mode.CITED, "cites none of the sources"),
    ],
)
def test_failures_are_logged_with_a_reason_but_never_the_members_text(
    mode: Mode, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, every level
    with FakeLlm(mode, delay=2.0) as llm:
        if mode is Mode.CITED:
            llm.reply = "根拠のない回答です。"
        assert _writer(llm, timeout=0.5).answer(QUESTION, SOURCES) is None
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert reason in warnings[0].getMessage()
    for private in (QUESTION, "山田花子", *(s.text for s in SOURCES), *(s.title for s in SOURCES)):
        assert private not in caplog.text
    assert API_KEY not in caplog.text


def test_citations_in_other_forms_are_read() -> None:
    text, cited = keep_known_citations(
        "窓口です［２］。期限は月末です[1, 9]。様式は共通です[3][1]。", {1, 2}
    )
    assert text == "窓口です[2]。期限は月末です[1]。様式は共通です[1]。"
    assert cited == (2, 1)


def test_the_writer_comes_from_the_settings_only_when_an_endpoint_is_set() -> None:
    assert AnswerWriter.from_settings(CoreSettings(_env_file=None, llm_url=None)) is None
    settings = CoreSettings(
        _env_file=None,
        llm_url="http://llm.example/v1/chat/completions",
        llm_model="m",
        llm_api_key=API_KEY,
        llm_timeout_seconds=3.0,
    )
    writer = AnswerWriter.from_settings(settings)
    assert writer is not None
    assert (writer.url, writer.model, writer.timeout) == (settings.llm_url, "m", 3.0)
    assert API_KEY not in repr(writer)
