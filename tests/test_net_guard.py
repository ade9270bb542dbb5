"""The outbound HTTP seam: URL policy (SSRF), limits, redirects, error mapping, connect-time pinning, retries.

No test touches the network: HTTP goes through `responses`, names resolve through an injected fake resolver
(TEST-NET ranges are 'not globally routable' to the guard, so the fake answers with a public address; nothing
ever connects to it), and the autouse fixture turns any real DNS lookup into a test failure.
"""

from __future__ import annotations

import logging
import socket
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests
import responses

from netfakes import PUBLIC, fake_resolver
from sigtriage.errors import ExternalError, UsageError
from sigtriage.net import (
    BlockedURLError,
    HTTPStatusError,
    NetConfig,
    ResponseTooLargeError,
    RetryPolicy,
    SafeSession,
    UrlGuard,
    retry_after_seconds,
)





def session(**config: Any) -> SafeSession:
    return SafeSession(NetConfig(**config), resolver=fake_resolver())


def mock() -> responses.RequestsMock:
    return responses.RequestsMock(assert_all_requests_are_fired=False)


BLOCKED = [
    "http://127.0.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/",
    "http://10.0.0.5/",
    "http://192.168.1.1/",
    "http://172.16.0.1/",
    "http://100.64.0.1/",
    "http://0.0.0.0/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "http://203.0.113.10/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://127.0.0.1./",
    "http://１２７.０.０.１/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[fc00::1]/",
    "http://[fd12:3456::1]/",
    "http://[fe80::1%25eth0]/",
    "http://[64:ff9b::a00:1]/",
    "http://[2002:7f00:1::1]/",
    "http://[2001::1]/",
    "file:///etc/passwd",
    "gopher://crl.pki.test:70/_GET",
    "ftp://crl.pki.test/x.crl",
    "ldap://crl.pki.test/cn=x",
    "http://user:secret@crl.pki.test/x.crl",
    "http:///x.crl",
]


@pytest.mark.parametrize("url", BLOCKED)
def test_forbidden_urls_are_blocked_before_any_request(url: str) -> None:
    with mock() as rsps, session() as s:
        with pytest.raises(BlockedURLError) as caught:
            s.get(url)
        assert len(rsps.calls) == 0
    assert not caught.value.retryable


@pytest.mark.parametrize(
    "url",
    [
        "http://crl.pki.test/int.crl",
        "https://crl.pki.test:8443/int.crl",
        f"http://{PUBLIC}/x",
        "http://[2606:4700::1111]/x",
        "http://[64:ff9b::5db8:d822]/x",  # NAT64 of a public address: how IPv6-only hosts reach IPv4
        "http://[::ffff:93.184.216.34]/x",
    ],
)
def test_public_urls_pass(url: str) -> None:
    UrlGuard(NetConfig(), fake_resolver()).check_url(url)


def test_a_name_resolving_to_a_private_address_is_blocked(monkeypatch: pytest.MonkeyPatch) -> None:
    def getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list[Any]:
        assert host == "evil.pki.test"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with mock() as rsps, SafeSession(NetConfig()) as s:  # the system resolver, i.e. socket.getaddrinfo
        with pytest.raises(BlockedURLError, match="evil.pki.test resolves to 10.0.0.1, which is private"):
            s.get("http://evil.pki.test/x.crl")
        assert len(rsps.calls) == 0


def test_any_forbidden_answer_blocks_even_beside_a_public_one() -> None:
    guard = UrlGuard(NetConfig(), fake_resolver({"mixed.test": (PUBLIC, "169.254.169.254")}))
    with pytest.raises(BlockedURLError, match="link-local"):
        guard.check_url("http://mixed.test/")


def test_unresolvable_host_is_a_retryable_external_error_not_a_block() -> None:
    with pytest.raises(ExternalError) as caught:
        UrlGuard(NetConfig(), fake_resolver()).check_url("http://nowhere.example/")
    assert caught.value.retryable and not isinstance(caught.value, BlockedURLError)


def test_allowlisted_host_and_network_permit_internal_addresses() -> None:
    table = {"crl.corp.test": ("10.1.2.3",), "other.corp.test": ("10.2.0.1",)}
    guard = UrlGuard(NetConfig(allow_hosts=("CRL.corp.test.",)), fake_resolver(table))
    assert guard.check_url("http://crl.corp.test/int.crl").addresses == ("10.1.2.3",)
    with pytest.raises(BlockedURLError):
        guard.check_url("http://other.corp.test/int.crl")

    guard = UrlGuard(NetConfig(allow_cidrs=("10.1.0.0/16",)), fake_resolver(table))
    guard.check_url("http://crl.corp.test/int.crl")
    guard.check_url("http://10.1.9.9/int.crl")
    with pytest.raises(BlockedURLError):
        guard.check_url("http://other.corp.test/int.crl")
    with pytest.raises(BlockedURLError, match="non-canonical"):  # legacy forms stay refused even when allowlisted
        guard.check_url("http://0x0a010203/")


def test_port_allowlist() -> None:
    guard = UrlGuard(NetConfig(allowed_ports=(80, 443)), fake_resolver())
    guard.check_url("https://crl.pki.test/x")
    with pytest.raises(BlockedURLError, match="port 8080"):
        guard.check_url("http://crl.pki.test:8080/x")


@pytest.mark.parametrize(
    "config",
    [
        {"allow_cidrs": ("10.0.0.0/33",)},
        {"allow_hosts": ("10.0.0.1",)},
        {"connect_timeout": 0},
        {"max_bytes": 0},
        {"allowed_ports": (0,)},
    ],
)
def test_bad_configuration_is_a_usage_error(config: dict[str, Any]) -> None:
    with pytest.raises(UsageError):
        NetConfig(**config)


def test_missing_ca_bundle_is_a_usage_error(tmp_path: Any) -> None:
    with pytest.raises(UsageError, match="ca_bundle"):
        SafeSession(NetConfig(ca_bundle=str(tmp_path / "absent.pem")))


def test_proxy_credentials_stay_out_of_repr() -> None:
    assert "secret" not in repr(NetConfig(proxies={"https": "http://u:secret@proxy.corp:3128"}))


# --- SafeSession ---------------------------------------------------------------------------------------------


def test_redirect_to_metadata_service_is_blocked_without_requesting_it() -> None:
    with mock() as rsps, session() as s:
        rsps.add(
            responses.GET,
            "http://crl.pki.test/moved.crl",
            status=302,
            headers={"Location": "http://169.254.169.254/latest/meta-data/"},
        )
        with pytest.raises(BlockedURLError, match="redirect from http://crl.pki.test/moved.crl: host 169.254"):
            s.get("http://crl.pki.test/moved.crl")
        assert [c.request.url for c in rsps.calls] == ["http://crl.pki.test/moved.crl"]


def test_redirects_are_followed_and_credentials_stay_with_their_origin() -> None:
    with mock() as rsps, session() as s:
        rsps.add(responses.POST, "http://a.test/start", status=303, headers={"Location": "/same-origin"})
        rsps.add(responses.GET, "http://a.test/same-origin", status=307, headers={"Location": "http://b.test/end"})
        rsps.add(responses.GET, "http://b.test/end", body=b"done")
        response = s.post("http://a.test/start", b"body", headers={"Authorization": "Bearer t0ken", "Accept": "x/y"})
        assert (response.status, response.url, response.content) == (200, "http://b.test/end", b"done")
        _, second, third = (c.request for c in rsps.calls)
        assert second.method == "GET" and second.headers["Authorization"] == "Bearer t0ken"
        assert "Authorization" not in third.headers and third.headers["Accept"] == "x/y"


def test_redirect_limit() -> None:
    with mock() as rsps, session(max_redirects=2) as s:
        for hop in range(4):
            rsps.add(responses.GET, f"http://a.test/{hop}", status=302, headers={"Location": f"/{hop + 1}"})
        with pytest.raises(ExternalError, match="more than 2 redirects"):
            s.get("http://a.test/0")
        assert len(rsps.calls) == 3


def test_body_is_capped_while_streaming() -> None:
    with mock() as rsps, session(max_bytes=100_000) as s:
        rsps.add(responses.GET, "http://a.test/small", body=b"x" * 100_000)
        rsps.add(responses.GET, "http://a.test/big", body=b"x" * 300_000)
        rsps.add(responses.GET, "http://a.test/declared", body=b"x", headers={"Content-Length": "999999999"})
        assert len(s.get("http://a.test/small").content) == 100_000
        with pytest.raises(ResponseTooLargeError):
            s.get("http://a.test/big")
        with pytest.raises(ResponseTooLargeError):
            s.get("http://a.test/declared")


@pytest.mark.parametrize(("status", "retryable"), [(404, False), (403, False), (429, True), (500, True), (503, True)])
def test_http_errors_are_typed(status: int, retryable: bool) -> None:
    with mock() as rsps, session() as s:
        rsps.add(responses.GET, "http://a.test/x", status=status, headers={"Retry-After": "3"})
        with pytest.raises(HTTPStatusError) as caught:
            s.get("http://a.test/x")
    assert caught.value.status == status and caught.value.retryable is retryable
    assert caught.value.retry_after == "3"


@pytest.mark.parametrize(
    "failure",
    [
        requests.exceptions.ConnectTimeout("connect timed out"),
        requests.exceptions.ReadTimeout("read timed out"),
        requests.exceptions.ConnectionError("refused"),
    ],
)
def test_transport_failures_are_retryable_external_errors(failure: Exception) -> None:
    with mock() as rsps, session() as s:
        rsps.add(responses.GET, "http://a.test/x?token=s3cret", body=failure)
        with pytest.raises(ExternalError) as caught:
            s.get("http://a.test/x?token=s3cret")
    assert caught.value.retryable
    assert "s3cret" not in str(caught.value)


def test_settings_reach_every_request(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = tmp_path / "corp-ca.pem"
    bundle.write_text("not read by the mock")
    monkeypatch.setenv("HTTP_PROXY", "http://env-proxy.test:1")  # ignored: trust_env is off
    proxies = {"http": "http://proxy.corp.test:3128"}
    with mock() as rsps, session(ca_bundle=str(bundle), proxies=proxies, connect_timeout=2, read_timeout=7) as s:
        rsps.add(responses.GET, "http://a.test/x", body=b"ok")
        s.get("http://a.test/x")
        request = rsps.calls[0].request
    kwargs = request.req_kwargs  # type: ignore[union-attr,attr-defined]  # added by responses
    assert str(request.headers["User-Agent"]).startswith("sigtriage/")
    assert kwargs["timeout"] == (2, 7) and kwargs["verify"] == str(bundle) and kwargs["proxies"] == proxies


def test_logs_never_carry_secrets(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with mock() as rsps, session() as s:
        rsps.add(responses.GET, "http://a.test/x", body=b"ok")
        rsps.add(responses.GET, "http://a.test/gone", status=302, headers={"Location": "http://u:pw@127.0.0.1/"})
        s.get("http://a.test/x?api_key=s3cret", headers={"Authorization": "Bearer s3cret"})
        with pytest.raises(BlockedURLError):
            s.get("http://a.test/gone")
    assert "http://a.test/x" in caplog.text and "s3cret" not in caplog.text and "pw" not in caplog.text


# --- connect-time pinning ------------------------------------------------------------------------------------


def test_rebinding_between_check_and_connect_is_caught_at_connect(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter([(PUBLIC,), ("127.0.0.1",)])  # first the pre-request check, then the connection

    def rebinding(host: str, port: int) -> tuple[str, ...]:
        return next(answers)

    def connect(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"connected to {args}")

    monkeypatch.setattr("urllib3.util.connection.create_connection", connect)
    expected = "rebind.test resolves to 127.0.0.1, which is loopback"
    with SafeSession(NetConfig(), resolver=rebinding) as s, pytest.raises(BlockedURLError, match=expected):
        s.get("http://rebind.test/x")


def test_connection_goes_to_the_checked_address(monkeypatch: pytest.MonkeyPatch) -> None:
    targets: list[object] = []

    def connect(address: tuple[str, int], *args: object, **kwargs: object) -> None:
        targets.append(address)
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr("urllib3.util.connection.create_connection", connect)
    resolver = fake_resolver({"two.test": ("2606:4700::1111", PUBLIC)})
    expected = r"connection failed: http://two.test/x \(Connection refused\)"
    with SafeSession(NetConfig(), resolver=resolver) as s, pytest.raises(ExternalError, match=expected):
        s.get("http://two.test/x")
    assert targets == [("2606:4700::1111", 80), (PUBLIC, 80)]  # each checked address in turn, never the name


# --- RetryPolicy ---------------------------------------------------------------------------------------------


class Flaky:
    def __init__(self, *errors: ExternalError) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def retryable(message: str = "timed out") -> ExternalError:
    return ExternalError(message, retryable=True)


def test_retries_with_exponential_backoff() -> None:
    slept: list[float] = []
    policy = RetryPolicy(max_attempts=4, backoff_base=0.5, max_backoff=1.5, sleep=slept.append)
    operation = Flaky(retryable(), retryable(), retryable())
    assert policy.call(operation) == "ok"
    assert slept == [0.5, 1.0, 1.5] and operation.calls == 4


def test_gives_up_after_max_attempts_and_on_permanent_errors() -> None:
    slept: list[float] = []
    policy = RetryPolicy(max_attempts=2, sleep=slept.append)
    with pytest.raises(ExternalError, match="second"):
        policy.call(Flaky(retryable("first"), retryable("second"), retryable("third")))
    assert len(slept) == 1
    operation = Flaky(HTTPStatusError(404, url="http://a.test/"))
    with pytest.raises(HTTPStatusError):
        policy.call(operation)
    assert operation.calls == 1 and len(slept) == 1


def test_honours_retry_after_seconds_and_http_date() -> None:
    now = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
    slept: list[float] = []
    policy = RetryPolicy(max_backoff=60, sleep=slept.append, clock=lambda: now)
    later = (now + timedelta(seconds=20)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    errors = [HTTPStatusError(429, url="http://a.test/", retry_after=v) for v in ("7", later)]
    assert policy.call(Flaky(errors[0])) == "ok" and policy.call(Flaky(errors[1])) == "ok"
    assert slept == [7.0, 20.0]


def test_retry_after_longer_than_max_backoff_means_no_retry() -> None:
    slept: list[float] = []
    policy = RetryPolicy(max_backoff=30, sleep=slept.append)
    with pytest.raises(HTTPStatusError):
        policy.call(Flaky(HTTPStatusError(503, url="http://a.test/", retry_after="3600")))
    assert slept == []


def test_retry_after_parsing() -> None:
    now = datetime(2015, 10, 21, 7, 27, 0, tzinfo=timezone.utc)
    assert retry_after_seconds(" 120 ", now) == 120
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now) == 60
    assert retry_after_seconds("Wed, 21 Oct 2015 07:00:00 GMT", now) == 0
    assert retry_after_seconds("soon", now) is None


def test_retry_policy_with_a_session() -> None:
    with mock() as rsps, session() as s:
        rsps.add(responses.GET, "http://a.test/x", status=503)
        rsps.add(responses.GET, "http://a.test/x", body=b"ok")
        assert RetryPolicy(sleep=lambda _: None).call(lambda: s.get("http://a.test/x")).content == b"ok"
        assert len(rsps.calls) == 2
