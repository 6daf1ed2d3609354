"""The API key cannot be printed, pickled or leaked through a URL."""

from __future__ import annotations

import copy
import logging
import pickle

import pytest

from simplymeet.client import SimplyMeetClient, SimplyMeetError
from simplymeet.client.secret import ApiKey, redact_url
from simplymeet.config import ConfigError
from tests.loopback import QuietHandler, serving

KEY = "sk-live-0123456789abcdef"


def test_api_key_prints_as_mask_in_repr_str_and_format():
    key = ApiKey(KEY)
    shown = [repr(key), str(key), f"{key}", f"{key!r}", "%s" % key, repr([key]), repr({"k": key})]  # noqa: UP031
    assert all(KEY not in text for text in shown)
    assert str(key) == "***"


def test_api_key_reveal_returns_the_value():
    assert ApiKey(f"  {KEY}\n").reveal() == KEY


def test_api_key_refuses_pickling():
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(ApiKey(KEY))


def test_api_key_copies_are_the_same_object():
    key = ApiKey(KEY)
    assert copy.copy(key) is key
    assert copy.deepcopy({"k": key})["k"] is key


def test_api_key_has_no_instance_dict_to_dump():
    key = ApiKey(KEY)
    with pytest.raises(TypeError):
        vars(key)
    with pytest.raises(AttributeError):
        key.value = "x"  # type: ignore[attr-defined]


def test_api_key_never_reaches_log_records(caplog):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("simplymeet.client").info("using %s and %r", ApiKey(KEY), ApiKey(KEY))
    assert KEY not in caplog.text


@pytest.mark.parametrize("bad", ["", "   ", "line\nbreak", "clé"])
def test_api_key_rejects_values_a_header_cannot_carry(bad):
    with pytest.raises(ValueError) as info:
        ApiKey(bad)
    assert bad.strip() == "" or bad not in str(info.value)


def test_api_key_from_env_reads_the_variable(monkeypatch):
    monkeypatch.setenv("SIMPLYMEET_API_KEY", KEY)
    assert ApiKey.from_env() == ApiKey(KEY)
    monkeypatch.setenv("SIMPLYMEET_API_KEY", " ")
    assert ApiKey.from_env() is None


def test_api_key_redact_scrubs_its_value_from_text():
    assert ApiKey(KEY).redact(f"invalid key {KEY}!") == "invalid key ***!"


@pytest.mark.parametrize(
    "echoed",
    [KEY.upper(), KEY.lower(), KEY[:12], KEY[-10:]],
    ids=["upper", "lower", "head", "tail"],
)
def test_api_key_redact_masks_the_key_in_another_case_or_cut_short(echoed):
    assert ApiKey(KEY).redact(f"session {echoed}; retry") == "session ***; retry"


def test_a_body_echoing_the_key_json_escaped_is_scrubbed():
    # PHP's json_encode writes "/" as "\/" by default.
    key = "sk-live/0123456789abcdef"

    scrubbed = ApiKey(key).scrub(b'{"note": "sk-live\\/0123456789abcdef"}')

    assert scrubbed == b'{"note": "***"}'


@pytest.mark.parametrize(
    "echoed",
    [b"sk_live\\/AUDIT\\u002B9f8e7d6c5b4a==", b"sk_live\\u002fAUDIT+9f8e7d6c5b4a\\u003d="],
    ids=["upper-hex", "lower-hex"],
)
def test_a_body_echoing_the_key_with_json_unicode_escapes_is_scrubbed(echoed):
    # .NET's System.Text.Json writes "+" as \u002B; any encoder may escape any character so.
    scrubbed = ApiKey("sk_live/AUDIT+9f8e7d6c5b4a==").scrub(b'{"note": "' + echoed + b'"}')

    assert scrubbed == b'{"note": "***"}'


def test_a_body_echoing_the_key_in_mixed_case_is_scrubbed():
    # A server that title-cases a field it stores the key in.
    key = "aud44g-key-0123456789abcdef"

    scrubbed = ApiKey(key).scrub(b'{"address": "' + key.title().encode() + b'"}')

    assert scrubbed == b'{"address": "***"}'


def test_a_body_echoing_the_key_with_every_character_escaped_is_scrubbed():
    # An encoder that escapes every character, letters and digits too.
    key = "aud44g-key-0123456789abcdef"
    echoed = "".join(f"\\u{ord(char):04X}" for char in key).encode()

    scrubbed = ApiKey(key).scrub(b'{"city": "' + echoed + b'"}')

    assert scrubbed == b'{"city": "***"}'


def test_a_body_with_html_safe_escapes_and_no_key_is_returned_as_it_came():
    body = b'{"note": "\\u003Cb\\u003E Caf\\u00e9 \\u0026 co"}'

    assert ApiKey("aud44g-key-0123456789abcdef").scrub(body) is body


def test_a_body_echoing_the_key_percent_encoded_in_a_url_is_scrubbed():
    body = b'{"webhook": "https://hooks.test/in?key=sk_live%2FAUDIT%2b9f8e7d6c5b4a%3D%3D&x=1"}'

    scrubbed = ApiKey("sk_live/AUDIT+9f8e7d6c5b4a==").scrub(body)

    assert scrubbed == b'{"webhook": "https://hooks.test/in?key=***&x=1"}'


@pytest.mark.parametrize(
    "echoed",
    [
        "".join(f"\\u{ord(char):04x}" for char in "sk_live%2FAUDIT%2B9f8e7d6c5b4a%3D%3D"),
        "sk_live%252FAUDIT%252B9f8e7d6c5b4a%253D%253D",
    ],
    ids=["every-character-escaped", "encoded-twice"],
)
def test_a_body_echoing_the_key_percent_encoded_and_escaped_again_is_scrubbed(echoed):
    body = b'{"webhook": "https://hooks.test/in?key=' + echoed.encode() + b'&x=1"}'

    scrubbed = ApiKey("sk_live/AUDIT+9f8e7d6c5b4a==").scrub(body)

    assert scrubbed == b'{"webhook": "https://hooks.test/in?key=***&x=1"}'


def test_redact_url_blanks_userinfo_and_secret_query_values():
    url = redact_url(f"https://user:pw@host/panel/api/event/?page=2&api_key={KEY}&token=t")
    assert KEY not in url and "pw" not in url
    assert "page=2" in url and url.startswith("https://***@host/panel/api/event/")


class _Redirecting(QuietHandler):
    """Answers every request with a redirect whose Location carries the key it was sent."""

    def do_GET(self) -> None:
        key = self.headers.get("X-API-KEY", "")
        self.send_response(302)
        self.send_header("Location", f"https://u:pw@elsewhere.test/login?token=tk&key={key}")
        self.send_header("Content-Length", "0")
        self.end_headers()


def test_a_redirect_is_reported_without_the_key_or_the_credentials_it_names():
    with (
        serving(_Redirecting) as base_url,
        SimplyMeetClient(base_url, api_key=KEY) as client,
        pytest.raises(SimplyMeetError) as refused,
    ):
        client.call("current_user_get")

    message = str(refused.value)
    assert "unexpected redirect to https://***@elsewhere.test/login" in message
    assert KEY not in message
    assert "pw" not in message
    assert "tk" not in message


class _EchoingInHtml(QuietHandler):
    """Answers 200 with an HTML page naming the key it was sent: no JSON at all."""

    def do_GET(self) -> None:
        key = self.headers.get("X-API-KEY", "")
        self.reply(200, f"<html>session for {key}</html>".encode(), "text/html")


def test_a_success_body_that_is_not_json_is_quoted_without_the_key():
    with (
        serving(_EchoingInHtml) as base_url,
        SimplyMeetClient(base_url, api_key=KEY, max_retries=0) as client,
        pytest.raises(SimplyMeetError, match="not JSON") as refused,
    ):
        client.call("current_user_get")

    # The quote is cut at 40 bytes: the key's head is all of it the message would show.
    assert KEY[:8] not in str(refused.value)


class _EchoingEscaped(QuietHandler):
    """Refuses every key, naming it as PHP's json_encode writes it (`/` as `\\/`) and in
    `\\uXXXX` escapes."""

    def do_GET(self) -> None:
        key = self.headers.get("X-API-KEY", "")
        spelled = "".join(f"\\u{ord(c):04x}" for c in key)
        slashed = key.replace("/", "\\/")
        body = f'{{"message": "Invalid API key {slashed}", "key": "{spelled}"}}'
        self.reply(401, body.encode(), "application/json")


def test_a_key_the_server_echoes_in_json_escapes_is_redacted():
    slashed = "sk/live+0123456789/abcdef"
    with (
        serving(_EchoingEscaped) as base_url,
        SimplyMeetClient(base_url, api_key=slashed) as client,
        pytest.raises(SimplyMeetError) as refused,
    ):
        client.call("current_user_get")

    assert slashed not in str(refused.value)
    assert slashed not in repr(refused.value.body)
    assert "Invalid API key ***" in str(refused.value)


class _EchoingInARecord(QuietHandler):
    """Serves the current user with the key it was sent in one of its fields, as a server
    that echoes the caller's credentials in a record."""

    def do_GET(self) -> None:
        key = self.headers.get("X-API-KEY", "")
        body = f'{{"id": 1, "email": "a@example.com", "fullName": "A", "apiKey": "{key}"}}'
        self.reply(200, body.encode(), "application/json")


def test_a_key_the_server_echoes_in_a_record_never_reaches_what_the_client_returns():
    with (
        serving(_EchoingInARecord) as base_url,
        SimplyMeetClient(base_url, api_key=KEY) as client,
    ):
        served = client.call("current_user_get", raw=True)

    assert served["apiKey"] == "***"
    assert KEY not in repr(served)


class _ServingAnX(QuietHandler):
    def do_GET(self) -> None:
        self.reply(
            200, b'{"id": 1, "email": "ann@x.test", "fullName": "Xavier"}', "application/json"
        )


def test_a_key_too_short_to_be_an_issued_one_leaves_served_text_as_it_is():
    # An emulator's or a test's key `x`: masked in bodies, every x of every row would go.
    with serving(_ServingAnX) as base_url, SimplyMeetClient(base_url, api_key="x") as client:
        served = client.call("current_user_get", raw=True)

    assert served["email"] == "ann@x.test" and served["fullName"] == "Xavier"


class _EchoingInTheStatusLine(QuietHandler):
    """Answers with a status line no client can parse, quoting the key it was sent."""

    def do_GET(self) -> None:
        key = self.headers.get("X-API-KEY", "")
        self.wfile.write(f"HTTP/1.1 2x0 echo {key}\r\n\r\n".encode())
        self.close_connection = True


def test_a_status_line_quoting_the_key_fails_the_request_without_the_key():
    with (
        serving(_EchoingInTheStatusLine) as base_url,
        SimplyMeetClient(base_url, api_key=KEY, max_retries=0) as client,
        pytest.raises(SimplyMeetError) as failed,
    ):
        client.call("current_user_get")

    assert "echo ***" in str(failed.value)
    assert KEY not in str(failed.value)


@pytest.mark.parametrize(
    "path",
    ["/sk-Live-0123456789", "/v1/sk-Live-0123456789/", "/sk-Live%252D0123456789"],
    ids=["alone", "between-segments", "percent-encoded-twice"],
)
def test_a_base_url_whose_path_holds_the_key_is_refused_without_echoing_it(path):
    with pytest.raises(ConfigError, match="base_url holds the API key") as refused:
        SimplyMeetClient(f"https://api.example{path}", api_key="sk-Live-0123456789")
    assert "0123456789" not in str(refused.value)


@pytest.mark.parametrize(
    ("base_url", "key"),
    [
        ("https://secure.simplymeet.me", "simplymeet_live_0123456789"),  # a word of the host
        ("http://127.0.0.1:8080/v1", "1"),  # a short key inside a segment
    ],
)
def test_a_key_sharing_characters_with_the_base_url_is_not_taken_for_one_pasted_in_it(
    base_url, key
):
    with SimplyMeetClient(base_url, api_key=key) as client:
        assert client.base_url.startswith(base_url.rstrip("/"))
