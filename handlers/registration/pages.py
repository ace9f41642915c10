"""The registration pages: the form (`/apply`), its submission, the done page and the rules.

- Organisation lookup without JavaScript: the form's "show organisations" button posts the
  form back with `action=lookup`, and the page comes back with what was typed and the
  prefecture's local governments in the select. Nothing typed ends up in a URL (or in a
  proxy's log); only `GET /apply?prefecture=北海道` links carry the prefecture. With
  JavaScript, choosing a prefecture presses that button.
- A honeypot field (hidden from people, filled by bots): such a post is thanked and dropped.
- A refused application is shown again with what was typed and the reasons (HTTP 422),
  nothing stored. An accepted one redirects (303) to `/apply/done/<public id>`, so a reload
  does not submit twice; the review message is then posted to the secretariat's channel.
"""

from __future__ import annotations

import logging
import math
from dataclasses import replace
from typing import Any

from flask import Response, redirect, render_template, request, url_for
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.business_days import add_business_days
from bot.i18n import Language, t
from bot.services import rules
from bot.services.applications import records
from bot.services.applications.submission import ApplicationRefused
from bot.services.transfers import one_account
from bot.text import clean_line
from handlers.deps import Deps
from handlers.registration.csrf import CSRF_COOKIE, CSRF_FIELD, CsrfTokens
from handlers.registration.form import (
    MAX_DEPARTMENT,
    MAX_EMAIL,
    MAX_NAME,
    FormValues,
    Problems,
    clean_field,
    form_choices,
    language_of,
    other_language,
    refusal_problems,
    validate,
)
from handlers.registration.limits import RateLimiter, client_address
from handlers.registration.texts import (
    DECISION_BUSINESS_DAYS,
    RULES_ITEMS,
    format_date,
    rules_blocks,
)
from models import ApplicationStatus

log = logging.getLogger(__name__)

APPLY_PATH = "/apply"
HONEYPOT_FIELD = "website"


class RegistrationPage:
    """The routes, as bound methods over `deps` (no module state)."""

    def __init__(
        self,
        deps: Deps,
        *,
        limiter: RateLimiter | None = None,
        csrf: CsrfTokens | None = None,
    ) -> None:
        secret = deps.settings.slack_signing_secret
        self.deps = deps
        self.limiter = limiter or RateLimiter()
        self.proxies = deps.settings.proxies
        self.csrf = csrf or CsrfTokens.for_secret(secret.get_secret_value() if secret else None)
        public = deps.settings.public_url or ""
        self._secure_cookie = public.startswith("https://")

    # -- helpers ----------------------------------------------------------------------

    def _nonce(self) -> str:
        cookie = request.cookies.get(CSRF_COOKIE)
        return cookie if cookie and CsrfTokens.is_nonce(cookie) else self.csrf.new_nonce()

    def _respond(self, body: str, status: int, *, nonce: str | None = None) -> Response:
        response = Response(body, status=status, content_type="text/html; charset=utf-8")
        if nonce is not None:
            response.set_cookie(
                CSRF_COOKIE,
                nonce,
                path=APPLY_PATH,
                httponly=True,
                samesite="Lax",
                secure=self._secure_cookie or request.is_secure,
            )
        return response

    def _page(self, template: str, language: Language, **context: Any) -> str:
        return render_template(
            f"registration/{template}",
            lang=language,
            other_lang=other_language(language),
            _=lambda key, **params: t(key, language, **params),
            **context,
        )

    def _form(
        self,
        language: Language,
        values: FormValues,
        *,
        status: int = 200,
        problems: Problems | None = None,
        notice: str | None = None,
        focus_list: bool = False,
    ) -> Response:
        nonce = self._nonce()
        with self.deps.session_factory() as session:
            choices = form_choices(session, values, language)
        values = choices.values
        body = self._page(
            "apply.html",
            language,
            values=values,
            prefectures=choices.prefectures,
            lg_options=choices.local_governments,
            searched=bool(values.prefecture or values.org_query),
            agencies=choices.agencies,
            problems=problems or Problems(),
            notice=notice,
            focus_list=focus_list,
            csrf_token=self.csrf.token(nonce, self.deps.clock.now()),
            rules_version=choices.rules_version,
            rules_items=RULES_ITEMS,
            switch_url=url_for(
                "registration.apply_form",
                lang=other_language(language),
                prefecture=values.prefecture or None,  # None: left out of the URL
            ),
            csrf_field=CSRF_FIELD,
            honeypot_field=HONEYPOT_FIELD,
            limits={"name": MAX_NAME, "email": MAX_EMAIL, "department": MAX_DEPARTMENT},
        )
        return self._respond(body, status, nonce=nonce)

    def _refuse_post(self, language: Language, values: FormValues) -> Response | None:
        """A forged, stale, too frequent or robotic post; None for one to read."""
        # The token first: a forged or stale post must not use up anyone's quota.
        if not self.csrf.valid(
            request.form.get(CSRF_FIELD), request.cookies.get(CSRF_COOKIE), self.deps.clock.now()
        ):
            log.info("registration: form token missing, expired or not matching its cookie")
            return self._form(
                language, values, status=400, notice=t("registration.error.csrf", language)
            )
        wait = self.limiter.hit(client_address(request, self.proxies))
        if wait is not None:
            log.warning("registration: rate limit reached for a client")
            response = self._form(
                language,
                values,
                status=429,
                notice=t("registration.error.rate_limited", language, minutes=math.ceil(wait / 60)),
            )
            response.headers["Retry-After"] = str(math.ceil(wait))
            return response
        if request.form.get(HONEYPOT_FIELD):
            log.info("registration: honeypot filled; dropped")
            return self._respond(self._page("received.html", language), 200)
        return None

    def _post_for_review(self, public_id: str) -> None:
        """After the commit: the application is stored whatever Slack says now."""
        try:
            self.deps.gateway.applications.review.post(public_id)
        except (SlackApiError, SlackClientError) as exc:
            log.error("registration: review message for %s not posted: %s", public_id, exc)

    # -- routes ------------------------------------------------------------------------

    def show(self) -> Response:
        language = language_of(request.args.get("lang"))
        values = FormValues(
            prefecture=clean_field(request.args.get("prefecture")),
            org_query=clean_field(request.args.get("org_query")),
        )
        return self._form(language, values, focus_list=bool(values.prefecture))

    def submit(self) -> Response:
        language = language_of(request.form.get("lang"))
        values = FormValues.from_form(request.form)
        if request.form.get("action") == "lookup":
            # Only a re-render with the prefecture's organisations: nothing is stored.
            return self._form(language, replace(values, org_kind="lg"), focus_list=True)
        refusal = self._refuse_post(language, values)
        if refusal is not None:
            return refusal
        with self.deps.session_factory() as session:
            problems = validate(session, values, language)
        if problems:
            return self._form(language, values, status=422, problems=problems)
        try:
            with self.deps.session_factory.begin() as session:
                submitted = one_account.apply_on_page(
                    session,
                    clock=self.deps.clock,
                    form=values.application_form(language),
                    public_url=self.deps.settings.public_url,
                )
                public_id = submitted.application.public_id
                moved = submitted.application.status is ApplicationStatus.MOVED
        except ApplicationRefused as refused:
            with self.deps.session_factory() as session:
                problems = refusal_problems(session, values, refused.verdict.reasons, language)
            return self._form(language, values, status=422, problems=problems)
        log.info("registration: application %s received (%s)", public_id, submitted.verdict.outcome)
        if not moved:  # a member's move: no review, no invitation
            self._post_for_review(public_id)
        target = url_for("registration.done", public_id=public_id, lang=language)
        return redirect(target, code=303)  # type: ignore[return-value]

    def done(self, public_id: str) -> Response:
        language = language_of(request.args.get("lang"))
        with self.deps.session_factory() as session:
            try:
                application = records.get(session, clean_line(public_id)[:32])
            except records.UnknownApplication:
                return self._respond(self._page("not_found.html", language), 404)
            submitted_at = application.submitted_at
            moved = application.status is ApplicationStatus.MOVED
        if moved:
            body = self._page(
                "moved.html",
                language,
                public_id=application.public_id,
                switch_url=url_for(
                    "registration.done", public_id=public_id, lang=other_language(language)
                ),
            )
            return self._respond(body, 200)
        local_day = submitted_at.astimezone(self.deps.settings.zone).date()
        deadline = add_business_days(local_day, DECISION_BUSINESS_DAYS)
        body = self._page(
            "done.html",
            language,
            public_id=application.public_id,
            deadline=format_date(deadline, language),
            switch_url=url_for(
                "registration.done", public_id=public_id, lang=other_language(language)
            ),
        )
        return self._respond(body, 200)

    def rules(self) -> Response:
        language = language_of(request.args.get("lang"))
        with self.deps.session_factory() as session:
            current = rules.current(session)
        body = self._page(
            "rules.html",
            language,
            blocks=rules_blocks(current.text(language)),
            version=current.version,
            switch_url=url_for("registration.rules", lang=other_language(language)),
        )
        return self._respond(body, 200)

    def failed(self, error: Exception) -> Response:
        """A polite page instead of the framework's English one; the error is logged."""
        log.error("registration page failed: %s", error)
        language = language_of(request.values.get("lang"))
        return self._respond(self._page("error.html", language), 500)
