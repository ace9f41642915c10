"""The pages people open in a browser (/apply, /move/…), as one Flask app. Imported on the first
page request (handlers/web.py): Slack's endpoint and the health check never load Flask."""

from __future__ import annotations

from flask import Flask

from handlers import registration
from handlers.deps import Deps
from handlers.registration.csrf import CsrfTokens
from handlers.transfers import move_page
from handlers.web import MAX_REQUEST_BYTES


def build_pages(deps: Deps) -> Flask:
    web = Flask("kyoso")
    web.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES  # also for bodies sent without a length
    secret = deps.settings.slack_signing_secret
    registration.register(web, deps)
    # Without a signing secret (Socket Mode) the key is random: forms outlive no restart.
    csrf = CsrfTokens.for_secret(secret.get_secret_value() if secret else None)
    move_page.register(web, deps, csrf=csrf)
    return web
