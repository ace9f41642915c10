"""What applicants are told by email, Japanese first and English below.

Applicants are not in Slack yet, so email is their only channel. The composers are pure
functions of plain values; `queue_application_email` records one in the outbox under the
key `application:<public id>:<kind>`, so a double click or a retried job never sends twice.
"""

from __future__ import annotations

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


class ComposedEmail(NamedTuple):
    subject: str
    body: str


def received_email(
    *, name: str, public_id: str, organisation_name: str | None, language: Language
) -> ComposedEmail:
    """Sent on submission: the number to quote and the 3-business-day promise."""
    return _compose(
        "received",
        name=name,
        public_id=public_id,
        organisation_name=organisation_name,
        language=language,
        before_details=["mail.received.body"],
        after_details=["mail.received.next"],
    )


def approved_email(
    *,
    name: str,
    public_id: str,
    organisation_name: str | None,
    language: Language,
    invited_by_slack: bool,
) -> ComposedEmail:
    """`invited_by_slack`: the admin API already sent Slack's invitation (Enterprise);
    otherwise the secretariat invites by hand within 1–3 days."""
    invite = "mail.approved.invite_now" if invited_by_slack else "mail.approved.invite_later"
    return _compose(
        "approved",
        name=name,
        public_id=public_id,
        organisation_name=organisation_name,
        language=language,
        before_details=["mail.approved.body", invite],
        after_details=["mail.approved.next"],
    )


def rejected_email(
    *,
    name: str,
    public_id: str,
    organisation_name: str | None,
    reason: str,
    language: Language,
) -> ComposedEmail:
    """The secretariat's reason is quoted as typed (in whichever language) in both parts."""
    return _compose(
        "rejected",
        name=name,
        public_id=public_id,
        organisation_name=organisation_name,
        language=language,
        before_details=["mail.rejected.body"],
        quoted=("mail.rejected.reason", reason),
        after_details=["mail.rejected.next"],
    )


def info_requested_email(
    *,
    name: str,
    public_id: str,
    organisation_name: str | None,
    message: str,
    language: Language,
) -> ComposedEmail:
    """The secretariat's question; the applicant answers by replying (Reply-To)."""
    return _compose(
        "info_requested",
        name=name,
        public_id=public_id,
        organisation_name=organisation_name,
        language=language,
        before_details=["mail.info_requested.body"],
        quoted=("mail.info_requested.message", message),
        after_details=["mail.info_requested.next"],
    )


def _compose(
    kind: str,
    *,
    name: str,
    public_id: str,
    organisation_name: str | None,
    language: Language,
    before_details: list[str],
    after_details: list[str],
    quoted: tuple[str, str] | None = None,
) -> ComposedEmail:
    name = _one_line(name)
    organisation = _one_line(organisation_name or "")
    sections = [
        _section(
            lang,
            name=name,
            public_id=public_id,
            organisation=organisation,
            before_details=before_details,
            after_details=after_details,
            quoted=quoted,
        )
        for lang in ("ja", "en")
    ]
    # An English reader would otherwise meet a page of Japanese with no hint.
    lead = [t("mail.english_follows", "en"), ""] if language == "en" else []
    body = "\n".join([*lead, sections[0], "", SEPARATOR, "", sections[1], ""])
    subject = f"{t(f'mail.{kind}.subject', 'ja')} / {t(f'mail.{kind}.subject', 'en')}"
    return ComposedEmail(subject=subject, body=body)


def _section(
    language: Language,
    *,
    name: str,
    public_id: str,
    organisation: str,
    before_details: list[str],
    after_details: list[str],
    quoted: tuple[str, str] | None,
) -> str:
    details = [t("mail.line.public_id", language, public_id=public_id)]
    if organisation:
        details.append(t("mail.line.organisation", language, organisation=organisation))
    paragraphs = [t("mail.greeting", language, name=name)]
    paragraphs += [t(key, language) for key in before_details]
    paragraphs.append("\n".join(details))
    if quoted is not None:
        label, text = quoted
        paragraphs.append(t(label, language) + "\n" + _indent(text))
    paragraphs += [t(key, language) for key in after_details]
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


def compose_application_email(
    application: Application,
    kind: ApplicationEmailKind,
    *,
    reason: str | None = None,
    organisation_name: str | None = None,
    invited_by_slack: bool = False,
) -> ComposedEmail:
    language = as_language(application.language, "ja")
    name, public_id = application.name, application.public_id
    match kind:
        case ApplicationEmailKind.RECEIVED:
            return received_email(
                name=name,
                public_id=public_id,
                organisation_name=organisation_name,
                language=language,
            )
        case ApplicationEmailKind.APPROVED:
            return approved_email(
                name=name,
                public_id=public_id,
                organisation_name=organisation_name,
                language=language,
                invited_by_slack=invited_by_slack,
            )
        case ApplicationEmailKind.REJECTED:
            return rejected_email(
                name=name,
                public_id=public_id,
                organisation_name=organisation_name,
                reason=_required(reason, kind),
                language=language,
            )
        case ApplicationEmailKind.INFO_REQUESTED:
            return info_requested_email(
                name=name,
                public_id=public_id,
                organisation_name=organisation_name,
                message=_required(reason, kind),
                language=language,
            )


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
    subject, body = compose_application_email(
        application,
        kind,
        reason=reason,
        organisation_name=organisation_name,
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
