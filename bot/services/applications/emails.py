"""What applicants are told by email, Japanese first and English below.

Applicants are not in Slack yet, so email is their only channel. `application_email` is a
pure function of plain values; `queue_application_email` records one in the outbox under the
key `application:<public id>:<kind>`, so a double click or a retried job never sends twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.i18n import Language, as_language, t
from bot.services.mail.outbox import queue_email
from models import Application, Organisation

# A plain rule between the two languages. Not "-- ": mail clients hide what follows that.
SEPARATOR = "-" * 60


class ApplicationEmailKind(StrEnum):
    RECEIVED = "received"
    APPROVED = "approved"
    REJECTED = "rejected"
    INFO_REQUESTED = "info_requested"
    MOVED = "moved"  # a member's new address: taken as a move of the earlier account


class ComposedEmail(NamedTuple):
    subject: str
    body: str


# The catalogue key introducing the secretariat's own text, quoted as typed, in the kinds
# that carry one: the rejection's reason, the question about the applicant's affiliation.
_QUOTED = {
    ApplicationEmailKind.REJECTED: "mail.rejected.reason",
    ApplicationEmailKind.INFO_REQUESTED: "mail.info_requested.message",
}


def application_email(
    kind: ApplicationEmailKind,
    *,
    name: str,
    public_id: str,
    organisation_name: str | None,
    language: Language,
    text: str | None = None,
    invited_by_slack: bool = False,
) -> ComposedEmail:
    """`mail.<kind>.body`, the application's details, then `mail.<kind>.next`.

    APPROVED: `invited_by_slack` when the admin API already sent Slack's invitation
    (Enterprise); otherwise the secretariat invites by hand within 1–3 days. REJECTED and
    INFO_REQUESTED quote `text` (the reason, the question) as typed in both parts; the
    applicant answers a question by replying (Reply-To)."""
    before = [f"mail.{kind.value}.body"]
    if kind is ApplicationEmailKind.APPROVED:
        before.append(
            "mail.approved.invite_now" if invited_by_slack else "mail.approved.invite_later"
        )
    label = _QUOTED.get(kind)
    letter = _Letter(
        name=_one_line(name),
        public_id=public_id,
        organisation=_one_line(organisation_name or ""),
        before_details=before,
        quoted=(label, _required(text, kind)) if label else None,
        after_details=[f"mail.{kind.value}.next"],
    )
    japanese, english = (letter.section(lang) for lang in ("ja", "en"))
    # An English reader would otherwise meet a page of Japanese with no hint.
    lead = [t("mail.english_follows", "en"), ""] if language == "en" else []
    body = "\n".join([*lead, japanese, "", SEPARATOR, "", english, ""])
    subject = f"{t(f'mail.{kind}.subject', 'ja')} / {t(f'mail.{kind}.subject', 'en')}"
    return ComposedEmail(subject=subject, body=body)


@dataclass(frozen=True)
class _Letter:
    """What one email says, written once in each language."""

    name: str
    public_id: str
    organisation: str
    before_details: list[str]  # catalogue keys of the paragraphs above the details
    quoted: tuple[str, str] | None  # the label's key and the secretariat's text
    after_details: list[str]

    def section(self, language: Language) -> str:
        details = [t("mail.line.public_id", language, public_id=self.public_id)]
        if self.organisation:
            details.append(t("mail.line.organisation", language, organisation=self.organisation))
        paragraphs = [t("mail.greeting", language, name=self.name)]
        paragraphs += [t(key, language) for key in self.before_details]
        paragraphs.append("\n".join(details))
        if self.quoted is not None:
            label, text = self.quoted
            paragraphs.append(t(label, language) + "\n" + _indent(text))
        paragraphs += [t(key, language) for key in self.after_details]
        # "Kind regards," sits right above the name; Japanese leaves a line before the signature.
        closing = "\n" if language == "en" else "\n\n"
        paragraphs.append(t("mail.closing", language) + closing + t("mail.signature", language))
        paragraphs.append(t("mail.automated", language))
        return "\n\n".join(paragraphs)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _indent(text: str) -> str:
    lines = text.strip().replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(f"  {line}".rstrip() for line in lines)


def _required(reason: str | None, kind: ApplicationEmailKind) -> str:
    if reason is None or not reason.strip():
        raise ValueError(f"a {kind.value} email needs the secretariat's text")
    return reason


EMAIL_KEY_PREFIX = "application:"


def email_key(public_id: str, kind: ApplicationEmailKind) -> str:
    """The outbox key of an application's email: each kind is sent once."""
    return f"{EMAIL_KEY_PREFIX}{public_id}:{kind.value}"


def queue_application_email(
    session: Session,
    *,
    clock: Clock,
    application: Application,
    kind: ApplicationEmailKind,
    reason: str | None = None,
    organisation_name: str | None = None,
    invited_by_slack: bool = False,
) -> bool:
    """Queue the email for `kind` in the caller's transaction; False if it already was.

    `reason` is the rejection reason or the question asking for affiliation details.
    Without `organisation_name`, the application's linked organisation is used."""
    if organisation_name is None and application.organisation_id is not None:
        organisation_name = session.scalar(
            select(Organisation.name).where(Organisation.id == application.organisation_id)
        )
    subject, body = application_email(
        kind,
        name=application.name,
        public_id=application.public_id,
        organisation_name=organisation_name,
        language=as_language(application.language, "ja"),
        text=reason,
        invited_by_slack=invited_by_slack,
    )
    return queue_email(
        session,
        clock=clock,
        key=email_key(application.public_id, kind),
        to=application.email_normalized,
        subject=subject,
        body=body,
    )
