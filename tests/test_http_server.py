"""The HTTP server stops gracefully: nothing in flight is cut off."""

from __future__ import annotations

import http.client
import threading
import time

from flask import Flask

from handlers.http_server import HttpServer


def _slow_app(started: threading.Event) -> Flask:
    web = Flask("slow")

    @web.get("/slow")
    def slow() -> str:
        started.set()
        time.sleep(0.6)
        return "done"

    return web


def test_stop_lets_the_request_in_flight_finish() -> None:
    started = threading.Event()
    server = HttpServer(_slow_app(started), host="127.0.0.1", port=0, threads=4)
    serving = threading.Thread(target=server.serve, daemon=True)
    serving.start()
    idle = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    idle.request("GET", "/nothing")  # a keep-alive connection left idle
    assert idle.getresponse().status == 404
    results: list[tuple[int, bytes]] = []

    def fetch() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        connection.request("GET", "/slow")
        response = connection.getresponse()
        results.append((response.status, response.read()))

    client = threading.Thread(target=fetch)
    client.start()
    assert started.wait(5)
    server.stop()
    client.join(5)
    serving.join(5)
    assert results == [(200, b"done")]
    assert not serving.is_alive()  # the idle connection did not keep it open
    refused = http.client.HTTPConnection("127.0.0.1", server.port, timeout=2)
    try:
        refused.request("GET", "/slow")
        refused.getresponse()
        raise AssertionError("a stopped server accepted a connection")
    except OSError:
        pass
