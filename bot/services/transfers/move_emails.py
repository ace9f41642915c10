"""The move's confirmation mail to the new address: Japanese first, English below, a
one-time link (when Kyoso has a public URL) and a 6-digit code, queued in the outbox under
`move:<public id>:confirm` so a retried transaction never sends it twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.i18n import Language, t
from bot.services.applications.emails import SEPARATOR, ComposedEmail
from bot.services.mail.outbox import queue_email
from bot.timefmt import JST
from models import AffiliationMove

CONFIRM_PATH = "/move/confirm/"


def confirm_link(public_url: str | None, token: str, language: Language) -> str | None:
    """`{KYOSO_PUBLIC_URL}/move/confirm/<token>`; None without a public URL (code only)."""
    if not public_url:
        return None
    suffix = "?lang=en" if language == "en" else ""
    return f"{public_url.rstrip('/')}{CONFIRM_PATH}{token}{suffix}"


def expiry_text(at: datetime, language: Language) -> str:
    local = at.astimezone(JST)
    if language == "ja":
        return f"{local:%Y年%m月%d日 %H:%M}"
    return f"{local:%Y-%m-%d %H:%M} JST"


@dataclass(frozen=True)
class MoveLetter:
    name: str
    organisation: str
    code: str
    link: str | None
    expires_at: datetime

    def section(self, language: Language) -> str:
        paragraphs = [t("mail.greeting", language, name=self.name) if self.name else ""]
        paragraphs.append(t("transfers.move.mail.body", language, organisation=self.organisation))
        if self.link:
            paragraphs.append(t("transfers.move.mail.link", language, link=self.link))
        paragraphs.append(t("transfers.move.mail.code", language, code=self.code))
        expires = expiry_text(self.expires_at, language)
        paragraphs.append(t("transfers.move.mail.expires", language, expires=expires))
        paragraphs.append(t("transfers.move.mail.ignore", language))
        closing = "\n" if language == "en" else "\n\n"
        paragraphs.append(t("mail.closing", language) + closing + t("mail.signature", language))
        paragraphs.append(t("mail.automated", language))
        return "\n\n".join(p for p in paragraphs if p)


def move_email(letter: MoveLetter, language: Language) -> ComposedEmail:
    japanese, english = letter.section("ja"), letter.section("en")
    lead = [t("mail.english_follows", "en"), ""] if language == "en" else []
    body = "\n".join([*lead, japanese, "", SEPARATOR, "", english, ""])
    subject = f"{t('transfers.move.mail.subject', 'ja')} / {t('transfers.move.mail.subject', 'en')}"
    return ComposedEmail(subject=subject, body=body)


def queue_move_email(
    session: Session,
    *,
    clock: Clock,
    move: AffiliationMove,
    name: str,
    organisation: str | None,
    token: str,
    code: str,
    language: Language,
    public_url: str | None,
) -> bool:
    assert move.code_expires_at is not None and move.new_email_normalized
    letter = MoveLetter(
        name=" ".join(name.split()),
        organisation=organisation or "-",
        code=code,
        link=confirm_link(public_url, token, language),
        expires_at=move.code_expires_at,
    )
    subject, body = move_email(letter, language)
    return queue_email(
        session,
        clock=clock,
        key=f"move:{move.public_id}:confirm",
        to=move.new_email_normalized,
        subject=subject,
        body=body,
    )
