"""The registration page (`/apply`), served beside Slack's endpoint in HTTP mode.

Server-rendered HTML that works with JavaScript off (old office PCs, strict proxies), loads
nothing from other hosts (CDNs are blocked on LGWAN), and fits a phone. Japanese by default,
`?lang=en` for English.

- Organisation lookup without JavaScript: the form's "show organisations" button posts the
  form back with `action=lookup`, and the page comes back with what was typed and the
  prefecture's local governments in the select. Nothing typed ends up in a URL (or in a
  proxy's log); only `GET /apply?prefecture=北海道` links carry the prefecture. With
  JavaScript, choosing a prefecture presses that button.
- CSRF: a random nonce in a cookie (HttpOnly, SameSite=Lax, Path=/apply) and, in a hidden
  field, the nonce with its issue time and an HMAC-SHA256 over both. The key is derived from
  SLACK_SIGNING_SECRET with a purpose string, so every HTTP-mode instance sharing a
  database accepts the others' tokens and no new setting is needed; the page never runs in
  Socket Mode (no web server), where the secret may be absent and a per-process key is used.
- A honeypot field (hidden from people, filled by bots): such a post is thanked and dropped.
- A per-client limit on submissions (in memory, per process): 10 per 10 minutes by default,
  counted only after the CSRF check (a forged post costs nobody their quota). Behind a
  proxy the client is read from X-Forwarded-For as KYOSO_TRUSTED_PROXIES allows.
- Every field and query parameter goes through bot.text's input hygiene first: NUL (which
  PostgreSQL refuses) and other controls never reach the database.
- A refused application is shown again with what was typed and the reasons (HTTP 422),
  nothing stored. An accepted one redirects (303) to `/apply/done/<public id>`, so a reload
  does not submit twice; the review message is then posted to the secretariat's channel.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from flask import Blueprint, Flask, Request, Response, redirect, render_template, request, url_for
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.orm import Session

from bot.business_days import add_business_days
from bot.codes import normalise_code
from bot.eligibility import OrganisationDirectory, Reason, Severity
from bot.i18n import Language, t
from bot.i18n.reasons import reason_text
from bot.proxies import TrustedProxies
from bot.services import applications, rules
from bot.services import organisation_lookup as lookup
from bot.services.application_emails import ApplicationEmailKind, queue_application_email
from bot.services.applications import ApplicationForm, ApplicationRefused
from bot.text import clean_line
from handlers import applications as review
from handlers.deps import Deps
from models import ApplicationSource

log = logging.getLogger(__name__)

APPLY_PATH = "/apply"
DONE_PATH = "/apply/done/<public_id>"
RULES_PATH = "/apply/rules"
STATIC_PATH = "/apply/static"

CSRF_COOKIE = "kyoso_apply_csrf"
CSRF_FIELD = "csrf_token"
HONEYPOT_FIELD = "website"
RULES_ITEMS = 9  # registration.rules.1 … .9

MAX_NAME = 100
MAX_EMAIL = 254
MAX_DEPARTMENT = 100
MAX_CODE = 16
_MAX_FIELD = 300  # anything longer is cut before it is echoed back into the page

# The business days the secretariat promises to decide in (shown on the done page).
DECISION_BUSINESS_DAYS = 3

_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


# --------------------------------------------------------------------------------------
# CSRF tokens


_NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")


class CsrfTokens:
    """Signed double-submit tokens: `<nonce>.<issued unix time>.<hmac>` in the form, the
    nonce in a cookie. Forging one needs the key; replaying one needs the victim's cookie."""

    PURPOSE = b"kyoso/registration-page/csrf/v1"

    def __init__(self, key: bytes, *, max_age: timedelta = timedelta(hours=4)) -> None:
        self._key = key
        self._max_age = max_age

    @classmethod
    def for_secret(cls, secret: str | None) -> CsrfTokens:
        if secret:
            key = hmac.new(secret.encode(), cls.PURPOSE, hashlib.sha256).digest()
        else:
            log.warning("no SLACK_SIGNING_SECRET: registration form tokens use a per-process key")
            key = secrets.token_bytes(32)
        return cls(key)

    @staticmethod
    def new_nonce() -> str:
        return secrets.token_urlsafe(18)

    @staticmethod
    def is_nonce(value: str | None) -> bool:
        return bool(value) and _NONCE.fullmatch(value or "") is not None

    def _mac(self, nonce: str, issued: int) -> str:
        message = f"{nonce}.{issued}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def token(self, nonce: str, issued: datetime) -> str:
        stamp = int(issued.timestamp())
        return f"{nonce}.{stamp}.{self._mac(nonce, stamp)}"

    def valid(self, token: str | None, cookie: str | None, now: datetime) -> bool:
        if not token or not cookie or not self.is_nonce(cookie) or not token.isascii():
            return False  # compare_digest refuses non-ASCII text; int() refuses "²"
        parts = token.split(".")
        if len(parts) != 3 or not parts[1].isascii() or not parts[1].isdigit():
            return False
        nonce, stamp, mac = parts[0], int(parts[1]), parts[2]
        if not hmac.compare_digest(mac, self._mac(nonce, stamp)):
            return False
        if not hmac.compare_digest(nonce.encode(), cookie.encode()):
            return False
        age = now.timestamp() - stamp
        return -300 <= age <= self._max_age.total_seconds()  # a little clock skew is fine


# --------------------------------------------------------------------------------------
# Rate limit


class RateLimiter:
    """At most `limit` hits per `window_seconds` per key (a sliding window), in memory.

    Per process: with several instances behind a load balancer each keeps its own count,
    which is enough to slow a script down without a shared store."""

    def __init__(
        self,
        *,
        limit: int = 10,
        window_seconds: float = 600,
        max_keys: int = 10_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self._max_keys = max_keys
        self._monotonic = monotonic
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, key: str) -> float | None:
        """Count a hit; None when allowed, else the seconds until the next one is."""
        now = self._monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            self._hits.move_to_end(key)
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(1.0, hits[0] + self.window - now)
            hits.append(now)
            while len(self._hits) > self._max_keys:
                self._hits.popitem(last=False)
            return None


def client_address(req: Request, proxies: TrustedProxies) -> str:
    """The applicant's address for the rate limit.

    Behind the TLS-terminating proxy the README asks for, every request comes from the
    proxy, and only `X-Forwarded-For` tells applicants apart; it is believed only when the
    peer is a proxy KYOSO_TRUSTED_PROXIES names, so a client cannot choose its own key."""
    peer = req.remote_addr or "unknown"
    return proxies.client(peer, req.headers.get("X-Forwarded-For"))


# --------------------------------------------------------------------------------------
# What the form holds


@dataclass
class FormValues:
    """What the applicant typed, as typed (cut to a sane length), for validation and for
    showing the form again."""

    name: str = ""
    email: str = ""
    org_kind: str = "lg"
    prefecture: str = ""
    org_query: str = ""
    lg_code: str = ""
    code: str = ""
    agency: str = ""
    department: str = ""
    rules: bool = False
    rules_version: str = ""

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> FormValues:
        def get(name: str) -> str:
            return _field(form.get(name))

        kind = get("org_kind")
        return cls(
            name=get("name"),
            email=get("email"),
            org_kind=kind if kind in ("lg", "agency") else "",
            prefecture=get("prefecture"),
            org_query=get("org_query"),
            lg_code=get("lg_code"),
            code=get("code"),
            agency=get("agency"),
            department=get("department"),
            rules=get("rules") == "yes",
            rules_version=get("rules_version")[:32],
        )


def _field(value: str | None) -> str:
    """One single-line value from the form or the query string, clean and cut."""
    return clean_line(value or "")[:_MAX_FIELD]


@dataclass
class Problems:
    """Messages by field (shown next to it) and in order (shown in the summary)."""

    by_field: dict[str, list[str]] = field(default_factory=dict)
    summary: list[tuple[str, str]] = field(default_factory=list)  # (field id, message)
    refused: bool = False

    def add(self, field_id: str, message: str) -> None:
        self.by_field.setdefault(field_id, []).append(message)
        self.summary.append((field_id, message))

    def __bool__(self) -> bool:
        return bool(self.summary)


def _language(value: str | None) -> Language:
    return "en" if value == "en" else "ja"


def _organisation_field(values: FormValues) -> str:
    if values.org_kind == "agency":
        return "agency"
    return "code" if values.code else "lg_code"


def validate(session: Session, values: FormValues, language: Language) -> Problems:
    problems = Problems()

    def msg(key: str, **params: object) -> str:
        return t(f"registration.error.{key}", language, **params)

    if not values.name:
        problems.add("name", msg("name_required"))
    elif len(values.name) > MAX_NAME:
        problems.add("name", msg("name_too_long", max=MAX_NAME))
    if not values.email:
        problems.add("email", msg("email_required"))
    elif len(values.email) > MAX_EMAIL:
        problems.add("email", msg("email_too_long", max=MAX_EMAIL))
    if values.org_kind == "lg":
        selected, entered = values.lg_code, values.code
        if not selected and not entered:
            problems.add("lg_code", msg("organisation_required"))
        elif selected and entered and normalise_code(selected) != normalise_code(entered):
            option = lookup.local_government(session, selected)
            problems.add(
                "code",
                msg(
                    "code_conflict",
                    selected=_option_label(option, language) if option else selected,
                    entered=entered,
                ),
            )
        elif len(entered) > MAX_CODE:
            problems.add("code", t("eligibility.code.format", language, entered=entered[:12]))
    elif values.org_kind == "agency":
        if not values.agency or lookup.agency(session, values.agency) is None:
            problems.add("agency", msg("agency_required"))
    else:
        problems.add("org_kind_lg", msg("org_kind_required"))
    if not values.department:
        problems.add("department", msg("department_required"))
    elif len(values.department) > MAX_DEPARTMENT:
        problems.add("department", msg("department_too_long", max=MAX_DEPARTMENT))
    if not values.rules:
        problems.add("rules", msg("rules_required"))
    return problems


_REASON_FIELDS = (
    ("email.", "email"),
    ("domain.", "email"),
    ("reapplication.", "email"),
    ("name.", "name"),
)


def refusal_problems(
    session: Session, values: FormValues, reasons: tuple[Reason, ...], language: Language
) -> Problems:
    """The reasons an application was refused, as polite messages next to their fields."""
    problems = Problems(refused=True)
    for reason in reasons:
        if reason.severity is not Severity.REFUSE:
            continue  # flags and notes are for the secretariat, not a reason to retype
        params = dict(reason.params)
        suggestion = params.get("did_you_mean")
        if suggestion:
            option = lookup.local_government(session, suggestion)
            if option is not None:
                params["did_you_mean"] = t(
                    "registration.error.did_you_mean_label",
                    language,
                    code=option.code,
                    name=_place_name(option),
                )
        target = next(
            (f for prefix, f in _REASON_FIELDS if reason.code.value.startswith(prefix)),
            _organisation_field(values),
        )
        problems.add(target, reason_text(reason.code, params, language))
    return problems


def _place_name(option: lookup.LocalGovernmentOption) -> str:
    if option.is_prefecture or not option.prefecture:
        return option.name
    return f"{option.prefecture}{option.name}"


def _option_label(option: lookup.LocalGovernmentOption, language: Language) -> str:
    if option.is_prefecture:
        name = t("registration.lg.prefecture_office", language, name=option.name)
    else:
        name = option.name
    return f"{name}（{option.code}）" if language == "ja" else f"{name} ({option.code})"


def format_date(day: date, language: Language) -> str:
    return t(
        "registration.date",
        language,
        year=day.year,
        month=t(f"registration.month.{day.month}", language),
        day=day.day,
        weekday=t(f"registration.weekday.{day.weekday()}", language),
    )


_MRKDWN_HEADING = re.compile(r"^\*([^*]+)\*$")


def rules_blocks(text: str) -> list[tuple[str, str]]:
    """The rules text (Slack mrkdwn, as the welcome DM shows it) as ("heading" | "para",
    text) pairs for the page: a line that is all bold becomes a heading."""
    blocks: list[tuple[str, str]] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        stripped = line.strip()
        if not stripped:
            continue
        heading = _MRKDWN_HEADING.match(stripped)
        if heading:
            blocks.append(("heading", heading.group(1).strip()))
        else:
            blocks.append(("para", stripped))
    return blocks


# --------------------------------------------------------------------------------------
# The pages


class RegistrationPage:
    """The routes, as bound methods over `deps` (no module state)."""

    def __init__(
        self,
        deps: Deps,
        *,
        limiter: RateLimiter | None = None,
        csrf: CsrfTokens | None = None,
        announce: Callable[[Deps, str], None] | None = None,
    ) -> None:
        secret = deps.settings.slack_signing_secret
        self.deps = deps
        self.limiter = limiter or RateLimiter()
        self.proxies = deps.settings.proxies
        self.csrf = csrf or CsrfTokens.for_secret(secret.get_secret_value() if secret else None)
        self._announce = announce or review.post_for_review
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
        other: Language = "en" if language == "ja" else "ja"
        return render_template(
            f"registration/{template}",
            lang=language,
            other_lang=other,
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
            prefectures = lookup.prefectures(session)
            names = {p.name for p in prefectures}
            values = replace(
                values, prefecture=values.prefecture if values.prefecture in names else ""
            )
            chosen = lookup.local_government(session, values.lg_code) if values.lg_code else None
            if chosen is not None and not values.prefecture and chosen.prefecture:
                values = replace(values, prefecture=chosen.prefecture)
            if chosen is None or chosen.prefecture != values.prefecture:
                values = replace(values, lg_code="")
                chosen = None
            options = lookup.local_governments(
                session, prefecture=values.prefecture or None, fragment=values.org_query or None
            )
            if chosen is not None and all(o.code != chosen.code for o in options):
                options.insert(0, chosen)
            agencies = lookup.agencies(session)
            # the version the applicant reads now is the one they confirm on submitting
            rules_version = values.rules_version or rules.current_version(session)
        body = self._page(
            "apply.html",
            language,
            values=values,
            prefectures=prefectures,
            lg_options=[(o.code, _option_label(o, language)) for o in options],
            searched=bool(values.prefecture or values.org_query),
            agencies=[
                (
                    a.slug,
                    a.name if language == "ja" or not a.name_en else f"{a.name_en}（{a.name}）",
                )
                for a in agencies
            ],
            problems=problems or Problems(),
            notice=notice,
            focus_list=focus_list,
            csrf_token=self.csrf.token(nonce, self.deps.clock.now()),
            rules_version=rules_version,
            rules_items=RULES_ITEMS,
            switch_url=url_for(
                "registration.apply_form",
                lang=_other(language),
                prefecture=values.prefecture or None,  # None: left out of the URL
            ),
            csrf_field=CSRF_FIELD,
            honeypot_field=HONEYPOT_FIELD,
            limits={"name": MAX_NAME, "email": MAX_EMAIL, "department": MAX_DEPARTMENT},
        )
        return self._respond(body, status, nonce=nonce)

    # -- routes ------------------------------------------------------------------------

    def show(self) -> Response:
        language = _language(request.args.get("lang"))
        values = FormValues(
            prefecture=_field(request.args.get("prefecture")),
            org_query=_field(request.args.get("org_query")),
        )
        return self._form(language, values, focus_list=bool(values.prefecture))

    def submit(self) -> Response:
        language = _language(request.form.get("lang"))
        values = FormValues.from_form(request.form)
        if request.form.get("action") == "lookup":
            # Only a re-render with the prefecture's organisations: nothing is stored.
            return self._form(language, replace(values, org_kind="lg"), focus_list=True)

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

        with self.deps.session_factory() as session:
            problems = validate(session, values, language)
        if problems:
            return self._form(language, values, status=422, problems=problems)

        form = ApplicationForm(
            email=values.email,
            name=values.name,
            organisation_code=(values.code or values.lg_code) if values.org_kind == "lg" else None,
            agency_slug=values.agency if values.org_kind == "agency" else None,
            department=values.department,
            language=language,
            rules_version=values.rules_version,
        )
        try:
            with self.deps.session_factory.begin() as session:
                known = {r.version for r in rules.published(session)}
                if form.rules_version not in known:  # a stale or edited hidden field
                    form = replace(form, rules_version=rules.current_version(session))
                submitted = applications.submit(
                    session,
                    clock=self.deps.clock,
                    directory=OrganisationDirectory.from_master_data(),
                    form=form,
                    source=ApplicationSource.WEB,
                )
                public_id = submitted.application.public_id
                # in the same transaction: stored and told, or neither
                queue_application_email(
                    session,
                    clock=self.deps.clock,
                    application=submitted.application,
                    kind=ApplicationEmailKind.RECEIVED,
                )
        except ApplicationRefused as refused:
            with self.deps.session_factory() as session:
                problems = refusal_problems(session, values, refused.verdict.reasons, language)
            return self._form(language, values, status=422, problems=problems)

        log.info("registration: application %s received (%s)", public_id, submitted.verdict.outcome)
        self._post_for_review(public_id)
        target = url_for("registration.done", public_id=public_id, lang=language)
        return redirect(target, code=303)  # type: ignore[return-value]

    def _post_for_review(self, public_id: str) -> None:
        """After the commit: the application is stored whatever Slack says now."""
        try:
            self._announce(self.deps, public_id)
        except (SlackApiError, SlackClientError) as exc:
            log.error("registration: review message for %s not posted: %s", public_id, exc)

    def done(self, public_id: str) -> Response:
        language = _language(request.args.get("lang"))
        with self.deps.session_factory() as session:
            try:
                application = applications.get(session, clean_line(public_id)[:32])
            except applications.UnknownApplication:
                return self._respond(self._page("not_found.html", language), 404)
            submitted_at = application.submitted_at
        local_day = submitted_at.astimezone(self.deps.settings.zone).date()
        deadline = add_business_days(local_day, DECISION_BUSINESS_DAYS)
        body = self._page(
            "done.html",
            language,
            public_id=application.public_id,
            deadline=format_date(deadline, language),
            switch_url=url_for("registration.done", public_id=public_id, lang=_other(language)),
        )
        return self._respond(body, 200)

    def rules(self) -> Response:
        language = _language(request.args.get("lang"))
        with self.deps.session_factory() as session:
            current = rules.current(session)
        body = self._page(
            "rules.html",
            language,
            blocks=rules_blocks(current.text(language)),
            version=current.version,
            switch_url=url_for("registration.rules", lang=_other(language)),
        )
        return self._respond(body, 200)

    def failed(self, error: Exception) -> Response:
        """A polite page instead of the framework's English one; the error is logged."""
        log.error("registration page failed: %s", error)
        language = _language(request.values.get("lang"))
        return self._respond(self._page("error.html", language), 500)


def _other(language: Language) -> Language:
    return "en" if language == "ja" else "ja"


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", _CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if response.mimetype == "text/html":
        # personal data may be on the page: no shared cache keeps it
        response.headers["Cache-Control"] = "no-store"
    return response


def register(web: Flask, deps: Deps, **options: Any) -> RegistrationPage:
    page = RegistrationPage(deps, **options)
    blueprint = Blueprint(
        "registration",
        __name__,
        template_folder="templates",
        static_folder="static",
        static_url_path=STATIC_PATH,
    )
    blueprint.add_url_rule(APPLY_PATH, "apply_form", page.show, methods=["GET"])
    blueprint.add_url_rule(APPLY_PATH, "apply_submit", page.submit, methods=["POST"])
    blueprint.add_url_rule(DONE_PATH, "done", page.done, methods=["GET"])
    blueprint.add_url_rule(RULES_PATH, "rules", page.rules, methods=["GET"])
    blueprint.after_request(_security_headers)
    blueprint.register_error_handler(500, page.failed)
    web.register_blueprint(blueprint)
    return page
