"""The client's TLS context: built once per process, still verifying every certificate."""

from __future__ import annotations

import ssl

import certifi

from simplymeet.client import SimplyMeetClient
from simplymeet.client.client import tls_context


def _context_of(client: SimplyMeetClient) -> ssl.SSLContext:
    return client._http._transport.ssl_context  # type: ignore[attr-defined]


def test_every_client_of_a_process_shares_one_tls_context() -> None:
    with (
        SimplyMeetClient("https://secure.simplymeet.me", api_key="k1") as first,
        SimplyMeetClient("https://secure.simplymeet.me", api_key="k2") as second,
    ):
        assert _context_of(first) is _context_of(second) is tls_context()


def test_the_shared_context_verifies_certificates_and_host_names() -> None:
    context = tls_context()

    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


def test_a_certificate_file_named_in_the_environment_gets_a_context_of_its_own(
    monkeypatch,
) -> None:
    default = tls_context()
    monkeypatch.setenv("SSL_CERT_FILE", certifi.where())

    chosen = tls_context()

    assert chosen is not default
    assert chosen is tls_context()
    assert chosen.verify_mode == ssl.CERT_REQUIRED
