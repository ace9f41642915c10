"""The mailed link of a move, `/move/confirm/<token>`, served beside the registration page.

GET only shows the move and a confirm button: mail scanners fetch links, and a fetch must
change nothing. POST (with the form's CSRF token and its cookie) confirms. A used, expired or
unknown link gets a polite page; the result is shown in the member's language (`?lang=en`
in the English members' mail)."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from flask import Blueprint, Flask, Response, render_template, request

from bot.i18n import Language, as_language, t
from bot.services.applications.organisations import label_of
from bot.services.transfers import moves
from bot.views.transfers.moves import day_text
from handlers.deps import Deps
from models import AffiliationMove, MoveStatus

log = logging.getLogger(__name__)

CONFIRM_PATH = "/move/confirm/<token>"
COOKIE_PATH = "/move"
CSRF_COOKIE = "kyoso_move_csrf"
CSRF_FIELD = "csrf_token"
_FILES = Path(__file__).resolve().parent.parent  # handlers/templates/transfers
_CSP = (
    "default-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
_RESULT = {
    MoveStatus.CONFIRMED: "applied",
    MoveStatus.SCHEDULED: "scheduled",
    MoveStatus.REVIEW: "review",
    MoveStatus.REFUSED: "refused",
}


class CsrfTokens(Protocol):
    """The registration page's signed double-submit tokens (handed in by handlers/web.py)."""

    def new_nonce(self) -> str: ...

    def is_nonce(self, value: str | None) -> bool: ...

    def token(self, nonce: str, issued: datetime) -> str: ...

    def valid(self, token: str | None, cookie: str | None, now: datetime) -> bool: ...


class MoveConfirmPage:
    def __init__(self, deps: Deps, csrf: CsrfTokens) -> None:
        self.deps = deps
        self.csrf = csrf
        self._secure_cookie = (deps.settings.public_url or "").startswith("https://")

    def _language(self) -> Language:
        return as_language(request.values.get("lang"), "ja")

    def _page(self, template: str, language: Language, status: int, **context: Any) -> Response:
        other: Language = "en" if language == "ja" else "ja"
        body = render_template(
            f"transfers/{template}",
            lang=language,
            other_lang=other,
            switch_url=f"{request.path}?lang={other}",
            _=lambda key, **params: t(key, language, **params),
            **context,
        )
        return Response(body, status=status, content_type="text/html; charset=utf-8")

    def _result(self, key: str, language: Language, status: int = 200, date: str = "-") -> Response:
        message = t(f"transfers.move.page.{key}", language, date=date)
        return self._page("move_result.html", language, status, message=message)

    def _unavailable(self, move: AffiliationMove | None, language: Language) -> Response | None:
        """The page for a link that cannot confirm (anymore); None for one that can."""
        if move is None:
            return self._result("unknown", language, 404)
        if move.status in _RESULT:
            return self._result("used", language, 409)
        if move.status is not MoveStatus.AWAITING or moves.is_expired(move, self.deps.clock.now()):
            return self._result("expired", language, 410)
        return None

    def show(self, token: str) -> Response:
        language = self._language()
        with self.deps.session_factory() as session:
            move = moves.move_by_token(session, token)
            unavailable = self._unavailable(move, language)
            if unavailable is not None:
                return unavailable
            assert move is not None
            organisation = label_of(session, move.new_organisation_id) or "-"
        return self._form(language, organisation, status=200)

    def _form(
        self, language: Language, organisation: str, *, status: int, notice: str | None = None
    ) -> Response:
        cookie = request.cookies.get(CSRF_COOKIE)
        nonce = cookie if cookie and self.csrf.is_nonce(cookie) else self.csrf.new_nonce()
        response = self._page(
            "move_confirm.html",
            language,
            status,
            organisation=organisation,
            notice=notice,
            csrf_field=CSRF_FIELD,
            csrf_token=self.csrf.token(nonce, self.deps.clock.now()),
        )
        response.set_cookie(
            CSRF_COOKIE,
            nonce,
            path=COOKIE_PATH,
            httponly=True,
            samesite="Lax",
            secure=self._secure_cookie or request.is_secure,
        )
        return response

    def confirm(self, token: str) -> Response:
        language = self._language()
        now = self.deps.clock.now()
        if not self.csrf.valid(request.form.get(CSRF_FIELD), request.cookies.get(CSRF_COOKIE), now):
            with self.deps.session_factory() as session:
                move = moves.move_by_token(session, token)
                unavailable = self._unavailable(move, language)
                if unavailable is not None:
                    return unavailable
                assert move is not None
                organisation = label_of(session, move.new_organisation_id) or "-"
            notice = t("transfers.move.page.csrf", language)
            return self._form(language, organisation, status=400, notice=notice)
        with self.deps.session_factory.begin() as session:
            move = moves.move_by_token(session, token)
            unavailable = self._unavailable(move, language)
            if unavailable is not None:
                return unavailable
            assert move is not None
            confirmed = moves.confirm_move(session, clock=self.deps.clock, move=move, via="link")
            public_id, status = confirmed.public_id, confirmed.status
            date = day_text(confirmed.effective_on)
        if status not in _RESULT:
            return self._result("expired", language, 410)
        log.info("move %s confirmed by its link: %s", public_id, status.value)
        self.deps.gateway.transfers.moves.after_confirmation(public_id)
        return self._result(_RESULT[status], language, date=date)


def register(web: Flask, deps: Deps, *, csrf: CsrfTokens) -> MoveConfirmPage:
    page = MoveConfirmPage(deps, csrf)
    blueprint = Blueprint(
        "transfer_moves", __name__, root_path=str(_FILES), template_folder="templates"
    )
    blueprint.add_url_rule(CONFIRM_PATH, "confirm_form", page.show, methods=["GET"])
    blueprint.add_url_rule(CONFIRM_PATH, "confirm", page.confirm, methods=["POST"])
    blueprint.after_request(_security_headers)
    web.register_blueprint(blueprint)
    return page


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", _CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")  # the token is in the path
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers["Cache-Control"] = "no-store"
    return response
