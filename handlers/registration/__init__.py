"""The registration page (`/apply`), served beside Slack's endpoint in HTTP mode.

Server-rendered HTML that works with JavaScript off (old office PCs, strict proxies), loads
nothing from other hosts (CDNs are blocked on LGWAN), and fits a phone. Japanese by default,
`?lang=en` for English. The page never runs in Socket Mode (no web server).

- pages.py: the routes (form, submission, done page, rules);
- form.py: what the form holds and offers, and the messages next to each field;
- csrf.py: signed double-submit tokens; limits.py: a per-client limit on submissions
  (behind a proxy the client is read from X-Forwarded-For as KYOSO_TRUSTED_PROXIES allows);
- texts.py: the decision date and the rules text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response

from handlers.deps import Deps
from handlers.registration.pages import APPLY_PATH, RegistrationPage

DONE_PATH = "/apply/done/<public_id>"
RULES_PATH = "/apply/rules"
STATIC_PATH = "/apply/static"
# handlers/templates/registration and handlers/static/registration
_FILES = Path(__file__).resolve().parent.parent

_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def register(web: Flask, deps: Deps, **options: Any) -> RegistrationPage:
    page = RegistrationPage(deps, **options)
    blueprint = Blueprint(
        "registration",
        __name__,
        root_path=str(_FILES),
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


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", _CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if response.mimetype == "text/html":
        # personal data may be on the page: no shared cache keeps it
        response.headers["Cache-Control"] = "no-store"
    return response
