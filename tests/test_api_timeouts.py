"""Slow and greedy clients against the real uvicorn server: partial heads and partial bodies are
cut after the configured deadlines, idle keep-alive connections are closed, and connections past
the cap get 503. (Before the read deadlines, a partial head held its socket forever.)"""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager

import uvicorn

from fake_engine import ApiHarness
from smallretail_llm.serving.api.server import uvicorn_config

DEADLINE_S = 0.5


@contextmanager
def server(tmp_path, **settings):
    api = ApiHarness(tmp_path, read_timeout_s=DEADLINE_S, body_timeout_s=DEADLINE_S,
                     idle_timeout_s=DEADLINE_S, port=_free_port(), **settings)
    srv = uvicorn.Server(uvicorn_config(api.app, api.settings))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.01)  # start-up, not a timing assumption of the test
    try:
        yield api.settings.port
    finally:
        srv.should_exit = True
        thread.join(10)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _closed_within(sock: socket.socket, seconds: float) -> tuple[bool, bytes]:
    """(True, what came) when the server closes the socket within ``seconds``."""
    sock.settimeout(seconds)
    data = b""
    try:
        while chunk := sock.recv(4096):
            data += chunk
        return True, data
    except TimeoutError:
        return False, data
    except ConnectionResetError:
        return True, data


def test_partial_head_partial_body_and_idle_connections_are_cut(tmp_path):
    with server(tmp_path) as port:
        head = socket.create_connection(("127.0.0.1", port))
        head.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        body = socket.create_connection(("127.0.0.1", port))
        body.sendall(b"POST /v1/answers HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                     b"application/json\r\nContent-Length: 100\r\n\r\n{\"question\":")
        idle = socket.create_connection(("127.0.0.1", port))
        idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        for sock in (head, body, idle):
            closed, data = _closed_within(sock, DEADLINE_S * 6)
            assert closed, "a slow or idle connection is still open"
            sock.close()
        assert data.startswith(b"HTTP/1.1 200")  # the idle one was answered first


def test_connections_past_the_cap_get_503(tmp_path):
    with server(tmp_path, max_connections=2) as port:
        held = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
        for sock in held:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # partial heads
        extra = socket.create_connection(("127.0.0.1", port))
        extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        _, data = _closed_within(extra, 5)
        assert data.startswith(b"HTTP/1.1 503")
        for sock in held:
            sock.close()
