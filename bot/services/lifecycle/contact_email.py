"""The email of attempt 2: Japanese first and English below, as every Kyoso email."""

from __future__ import annotations

from bot.domain.lifecycle import ContactTerms
from bot.i18n import Language, t
from bot.services.applications.emails import SEPARATOR, ComposedEmail


def contact_email(*, name: str | None, terms: ContactTerms, language: Language) -> ComposedEmail:
    def section(lang: Language) -> str:
        paragraphs = []
        if name:
            paragraphs.append(t("mail.greeting", lang, name=" ".join(name.split())))
        paragraphs += [
            t("lifecycle.mail.body", lang, days=terms.inactive_days),
            t("lifecycle.mail.why", lang),
            t("lifecycle.mail.ask", lang),
            t("lifecycle.mail.next", lang, grace_days=terms.grace_days),
        ]
        closing = "\n" if lang == "en" else "\n\n"
        paragraphs.append(t("mail.closing", lang) + closing + t("mail.signature", lang))
        paragraphs.append(t("mail.automated", lang))
        return "\n\n".join(paragraphs)

    lead = [t("mail.english_follows", "en"), ""] if language == "en" else []
    body = "\n".join([*lead, section("ja"), "", SEPARATOR, "", section("en"), ""])
    subject = f"{t('lifecycle.mail.subject', 'ja')} / {t('lifecycle.mail.subject', 'en')}"
    return ComposedEmail(subject=subject, body=body)
