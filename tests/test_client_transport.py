"""The client's connection pool (`client/transport.py`) against real loopback servers: TLS
verified end to end, connections reused and replaced, bodies read whole or never reused."""

from __future__ import annotations

import gzip
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import trustme

from simplymeet.client import SimplyMeetClient, TransportError
from tests.loopback import QuietHandler, QuietServer, running, serving

ANSWER = b'{"id": 7}'


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def trusted(ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test CA is the one this process trusts (as SSL_CERT_FILE makes it)."""
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    monkeypatch.setenv("SSL_CERT_FILE", str(pem))


class Recorder(QuietHandler):
    """Answers every GET with ANSWER and records its path on the server."""

    protocol_version = "HTTP/1.1"  # keep-alive, as the API's servers do

    def do_GET(self) -> None:
        self.server.paths.append(self.path)  # type: ignore[attr-defined]
        self.reply(200, ANSWER, "application/json")


@contextmanager
def tls_serving(
    ca: trustme.CA, *names: str, handler: type[Recorder] | None = None
) -> Iterator[tuple[str, list[str]]]:
    """`handler` (`Recorder`) over TLS on 127.0.0.1, its certificate issued by `ca` for
    `names`."""
    server = QuietServer(("127.0.0.1", 0), handler or Recorder)
    server.paths = []  # type: ignore[attr-defined]
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    with running(server):
        yield f"https://127.0.0.1:{server.server_address[1]}", server.paths  # type: ignore[attr-defined]


def test_an_https_api_is_read_over_a_verified_connection(ca, trusted):
    with (
        tls_serving(ca, "127.0.0.1") as (url, paths),
        SimplyMeetClient(url, api_key="k", max_retries=0) as client,
    ):
        assert client.call("current_user_get") == {"id": 7}
    assert paths == ["/panel/api/current-user"]


def _refused(ca: trustme.CA, *names: str) -> tuple[TransportError, list[str]]:
    """The error of one call to `tls_serving(ca, *names)`, and the paths the server saw."""
    with (
        tls_serving(ca, *names) as (url, paths),
        SimplyMeetClient(url, api_key="k", max_retries=0) as client,
        pytest.raises(TransportError) as refused,
    ):
        client.call("current_user_get")
    return refused.value, paths


def test_a_certificate_from_an_untrusted_ca_is_refused_before_anything_is_sent(ca):
    error, paths = _refused(ca, "127.0.0.1")
    assert error.kind == "connect" and not error.reached_server
    assert paths == []


def test_a_certificate_for_another_host_name_is_refused(ca, trusted):
    error, paths = _refused(ca, "api.example.org")
    assert error.kind == "connect" and not error.reached_server
    assert paths == []


class Garbling(Recorder):
    """Reads a request, then answers with bytes that are no TLS record, under the TLS layer:
    the client's read fails in TLS after its request arrived here."""

    def garble(self) -> None:
        self.server.paths.append(self.path)  # type: ignore[attr-defined]
        socket.socket.send(self.connection, b"\x00" * 64)
        self.close_connection = True

    do_GET = do_PUT = garble


def test_a_tls_connection_broken_after_the_request_left_is_not_taken_for_unsent(ca, trusted):
    with (
        tls_serving(ca, "127.0.0.1", handler=Garbling) as (url, paths),
        SimplyMeetClient(url, api_key="k", max_retries=0) as client,
        pytest.raises(TransportError) as broken,
    ):
        client.call("current_user_get")
    assert broken.value.kind != "connect" and broken.value.reached_server
    assert paths == ["/panel/api/current-user"]


def test_a_cancel_whose_tls_answer_broke_is_not_sent_again(ca, trusted):
    with (
        tls_serving(ca, "127.0.0.1", handler=Garbling) as (url, paths),
        SimplyMeetClient(url, api_key="k", max_retries=5) as client,
        pytest.raises(TransportError),
    ):
        client.event_cancel(42, reason="duplicate")
    assert paths == ["/panel/api/event/cancel/42"]


def test_consecutive_requests_share_one_kept_connection():
    ports: list[int] = []

    class Handler(Recorder):
        def do_GET(self) -> None:
            ports.append(self.client_address[1])
            self.reply(200, ANSWER, "application/json")

    with (
        serving(Handler) as url,
        SimplyMeetClient(url, api_key="k", allow_insecure_http=True) as client,
    ):
        for _ in range(3):
            client.call("current_user_get")
    assert len(ports) == 3 and len(set(ports)) == 1


def test_a_connection_the_server_closed_while_idle_is_replaced_before_the_request():
    seen: list[str] = []
    closed = threading.Event()

    class Handler(Recorder):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.reply(200, ANSWER, "application/json")
            self.wfile.flush()
            # Closed without a `Connection: close` header, as an idle timeout does.
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            closed.set()

    with (
        serving(Handler) as url,
        SimplyMeetClient(url, api_key="k", max_retries=0, allow_insecure_http=True) as c,
    ):
        for _ in range(3):
            closed.clear()
            assert c.call("current_user_get") == {"id": 7}
            assert closed.wait(10)
    assert len(seen) == 3


def test_a_chunked_answer_is_read_whole():
    body = b'{"id": 7, "name": "' + b"x" * 300_000 + b'"}'

    class Handler(Recorder):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(body), 70_000):
                part = body[start : start + 70_000]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")

    with (
        serving(Handler) as url,
        SimplyMeetClient(url, api_key="k", allow_insecure_http=True) as client,
    ):
        assert client.call("current_user_get")["name"] == "x" * 300_000


def test_a_gzip_encoded_answer_is_decoded():
    class Handler(Recorder):
        def do_GET(self) -> None:
            packed = gzip.compress(ANSWER)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(packed)))
            self.end_headers()
            self.wfile.write(packed)

    with (
        serving(Handler) as url,
        SimplyMeetClient(url, api_key="k", allow_insecure_http=True) as client,
    ):
        assert client.call("current_user_get") == {"id": 7}


def test_an_answer_cut_off_by_the_deadline_leaves_nothing_for_the_next_request():
    release = threading.Event()
    calls: list[str] = []

    class Handler(Recorder):
        def do_GET(self) -> None:
            calls.append(self.path)
            if len(calls) == 1:
                # Half an answer, the rest only after the client gave up on it.
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "100")
                self.end_headers()
                self.wfile.write(b'{"id": 1, ')
                self.wfile.flush()
                release.wait(10)
                self.wfile.write(b" " * 90)
                return
            self.reply(200, ANSWER, "application/json")

    with (
        serving(Handler) as url,
        SimplyMeetClient(
            url, api_key="k", timeout=0.5, max_retries=0, allow_insecure_http=True
        ) as client,
    ):
        with pytest.raises(TransportError) as cut:
            client.call("current_user_get")
        release.set()
        assert client.call("current_user_get") == {"id": 7}
    assert cut.value.kind == "timeout"


def test_headers_trickled_a_byte_at_a_time_are_cut_off_by_the_deadline():
    # Each byte comes well within the read timeout: only the whole-answer deadline ends it.
    release, trickled_out = threading.Event(), threading.Event()

    class Trickling(Recorder):
        def do_GET(self) -> None:
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            self.wfile.flush()
            for _ in range(100):  # at most 10 s; the client is gone long before
                if release.wait(0.1):
                    return
                self.wfile.write(b"X")
                self.wfile.flush()
            trickled_out.set()  # every byte written: the client waited for them all

    with (
        serving(Trickling) as url,
        SimplyMeetClient(
            url, api_key="k", timeout=1.0, max_retries=0, allow_insecure_http=True
        ) as client,
    ):
        with pytest.raises(TransportError) as cut:
            client.call("current_user_get")
        still_trickling = not trickled_out.is_set()
        release.set()
    assert still_trickling
    assert cut.value.kind == "timeout"


def test_header_names_reach_the_server_in_the_case_they_were_set():
    names: list[list[str]] = []

    class Handler(Recorder):
        def do_GET(self) -> None:
            names.append(list(self.headers.keys()))
            self.reply(200, ANSWER, "application/json")

    with (
        serving(Handler) as url,
        SimplyMeetClient(url, api_key="k", allow_insecure_http=True) as client,
    ):
        client.call("current_user_get")
    assert "X-API-KEY" in names[0] and "User-Agent" in names[0]
