"""Slack's invitation of an approved applicant through the admin API (an Enterprise Grid
admin token), and what follows its outcome (bot/services/applications/invitations.py)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from slack_sdk import WebClient

from bot.clock import Clock
from bot.db import SessionFactory
from bot.services.applications import invitations
from bot.services.applications.invitations import InviteOutcome
from bot.slack_errors import SLACK_CALL_ERRORS, alert_auth_failure, classify

log = logging.getLogger(__name__)


class Inviter:
    def __init__(
        self,
        *,
        admin: WebClient,
        channel_ids: Sequence[str],
        session_factory: SessionFactory,
        clock: Clock,
    ) -> None:
        self._admin = admin
        self._channel_ids = list(channel_ids)
        self._session_factory = session_factory
        self._clock = clock

    def invite(self, public_id: str) -> InviteOutcome:
        with self._session_factory() as session:
            invitee = invitations.invitee(session, public_id)
        try:
            team_id = self._admin.auth_test()["team_id"]
            self._admin.admin_users_invite(
                team_id=team_id,
                email=invitee.email,
                channel_ids=self._channel_ids,
                real_name=invitee.name,
                resend=True,
            )
        except SLACK_CALL_ERRORS as exc:
            failure = classify(exc)
            if failure.transient:
                log.warning(
                    "admin.users.invite for %s: %s; retried later", public_id, failure.error
                )
                return InviteOutcome.LATER
            if failure.auth:
                alert_auth_failure(failure, job="the Slack invitation")
            with self._session_factory.begin() as session:
                invitations.invite_by_hand(
                    session, clock=self._clock, public_id=public_id, error=failure.error
                )
            return InviteOutcome.FAILED
        with self._session_factory.begin() as session:
            invitations.invited_by_slack(session, clock=self._clock, public_id=public_id)
        return InviteOutcome.INVITED
