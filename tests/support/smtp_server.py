"""A real SMTP server (aiosmtpd) on an ephemeral loopback port that records what it accepts.

Recipients can be made to fail: `refuse(address, "550 …")` answers RCPT with that reply
(a 5xx is permanent, a 4xx asks the client to try later); `accept(address)` undoes it.
With `tls` the server offers STARTTLS with a certificate from a throwaway CA (trustme) and
requires it; with `credentials` it requires AUTH LOGIN/PLAIN."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOST = "127.0.0.1"


@dataclass(frozen=True)
class ReceivedMessage:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class _Recorder:
    def __init__(self) -> None:
        self.messages: list[ReceivedMessage] = []
        self.replies: dict[str, str] = {}
        self.changed = threading.Condition()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        reply = self.replies.get(address.lower())
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.changed:
            self.messages.append(
                ReceivedMessage(
                    mail_from=envelope.mail_from,
                    rcpt_tos=tuple(envelope.rcpt_tos),
                    data=envelope.original_content or envelope.content,
                )
            )
            self.changed.notify_all()
        return "250 Message accepted for delivery"


class _EphemeralController(Controller):
    """aiosmtpd wants a fixed port; bind port 0 and read back the one the OS chose."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpServer:
    def __init__(self, *, tls: bool = False, credentials: tuple[str, str] | None = None) -> None:
        self._recorder = _Recorder()
        self._credentials = credentials
        self.client_ssl_context: ssl.SSLContext | None = None
        options: dict[str, Any] = {}
        if tls:
            ca = trustme.CA()
            server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ca.issue_cert(HOST).configure_cert(server_context)
            client_context = ssl.create_default_context()
            ca.configure_trust(client_context)
            self.client_ssl_context = client_context
            options.update(tls_context=server_context, require_starttls=True)
        if credentials is not None:
            options.update(authenticator=self._authenticate, auth_required=True)
            options["auth_require_tls"] = tls
        # server_hostname: skip socket.getfqdn(), which can stall on a machine without DNS.
        self._controller = _EphemeralController(
            self._recorder, hostname=HOST, port=0, server_hostname="localhost", **options
        )
        self.logins: list[str] = []

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if isinstance(auth_data, LoginPassword) and self._credentials is not None:
            login, password = auth_data.login.decode(), auth_data.password.decode()
            if (login, password) == self._credentials:
                self.logins.append(login)
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    @property
    def host(self) -> str:
        return HOST

    @property
    def port(self) -> int:
        return int(self._controller.port)

    @property
    def messages(self) -> list[ReceivedMessage]:
        with self._recorder.changed:
            return list(self._recorder.messages)

    def refuse(self, address: str, reply: str) -> None:
        """Answer RCPT TO for `address` with `reply`, e.g. "550 5.1.1 No such user"."""
        self._recorder.replies[address.lower()] = reply

    def accept(self, address: str) -> None:
        self._recorder.replies.pop(address.lower(), None)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedMessage]:
        with self._recorder.changed:
            if not self._recorder.changed.wait_for(
                lambda: len(self._recorder.messages) >= count, timeout
            ):
                raise AssertionError(
                    f"{len(self._recorder.messages)} messages arrived, expected {count}"
                )
            return list(self._recorder.messages)

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()


@contextmanager
def smtp_server(
    *, tls: bool = False, credentials: tuple[str, str] | None = None
) -> Iterator[SmtpServer]:
    server = SmtpServer(tls=tls, credentials=credentials).start()
    try:
        yield server
    finally:
        server.stop()
