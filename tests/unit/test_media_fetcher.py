"""The fetcher against a hostile HTTP server on 127.0.0.1.

Only this module's tests open the loopback exception (UrlPolicy.allowing(["127.0.0.1/32"])).
Every connection MIST makes is recorded by a wrapper around urllib3's create_connection that
fails the test if anything but 127.0.0.1 is dialled, so the refusals below are proven to happen
before a connection attempt and no traffic ever leaves the machine.
"""

from __future__ import annotations

import threading
import time

import pytest

from mist_qgis.core.errors import Cancelled
from mist_qgis.core.images.fetcher import (
    BudgetExhausted,
    ByteBudget,
    FetchError,
    FetchLimits,
    HttpFetcher,
    parse_retry_after,
)
from mist_qgis.core.images.urlguard import UrlPolicy, UrlRefused
from tests.media_fixtures import MediaServer, gzip_body, jpeg_bytes, photo, png_bytes

LOOPBACK = UrlPolicy.allowing(["127.0.0.1/32"])
FAST = FetchLimits(connect_timeout=2, read_timeout=2, total_timeout=10, retries=2, backoff=0.05)


@pytest.fixture
def server():
    with MediaServer() as s:
        yield s


@pytest.fixture
def dialled(monkeypatch):
    """Addresses MIST connects to; anything but loopback (or the rebinding test host) fails."""
    import urllib3.util.connection as connection

    real = connection.create_connection
    seen: list[tuple[str, int]] = []

    def recording(address, *args, **kwargs):
        seen.append(tuple(address))
        host, port = address
        if host == "rebind.test":
            address = ("127.0.0.1", port)  # what a rebinding DNS answer would make the socket reach
        elif host != "127.0.0.1":
            raise AssertionError(f"MIST tried to connect to {address}")
        return real(address, *args, **kwargs)

    monkeypatch.setattr(connection, "create_connection", recording)
    return seen


def _fetcher(policy=LOOPBACK, limits=FAST, budget=None):
    return HttpFetcher(policy, limits, pool_size=4, budget=budget)


def test_good_jpeg_and_png(server, dialled):
    jpg = jpeg_bytes(photo())
    png = png_bytes(photo("coffee", 64))
    with _fetcher() as fetcher:
        a = fetcher.fetch(server.add("/a.jpg", jpg))
        b = fetcher.fetch(server.add("/b.png", png, "image/png"))
    assert a.data == jpg and a.content_type == "image/jpeg" and a.attempts == 1
    assert b.data == png
    assert dialled == [("127.0.0.1", server.port)]  # one pooled connection served both


def test_loopback_refused_without_the_exception(server, dialled):
    url = server.add("/a.jpg", jpeg_bytes(photo()))
    with _fetcher(policy=UrlPolicy()) as fetcher, pytest.raises(UrlRefused, match="loopback"):
        fetcher.fetch(url)
    assert dialled == [] and server.hits["/a.jpg"] == 0


@pytest.mark.parametrize("target", [
    "http://127.0.0.2:{port}/a.jpg",  # loopback, but outside the one network the test allowed
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/a.jpg",
    "http://[::1]:{port}/a.jpg",
    "file:///etc/passwd",
    "ftp://127.0.0.1/a.jpg",
])
def test_redirect_to_forbidden_address_refused_before_connecting(server, dialled, target):
    target = target.format(port=server.port)
    url = server.url(f"/redirect/x?to={target}")
    with _fetcher() as fetcher, pytest.raises(UrlRefused):
        fetcher.fetch(url)
    assert server.hits["/redirect/x"] == 1
    assert all(addr == ("127.0.0.1", server.port) for addr in dialled)


def test_redirect_to_allowed_target_followed(server, dialled):
    jpg = jpeg_bytes(photo())
    server.add("/real.jpg", jpg)
    with _fetcher() as fetcher:
        download = fetcher.fetch(server.url(f"/redirect/1?to={server.url('/real.jpg')}"))
    assert download.data == jpg and download.final_url == server.url("/real.jpg")
    assert download.redirects == [server.url("/real.jpg")]


def test_redirect_loop_limited(server, dialled):
    with _fetcher(policy=UrlPolicy.allowing(["127.0.0.1/32"], max_redirects=3)) as fetcher:
        with pytest.raises(FetchError, match="more than 3 redirects"):
            fetcher.fetch(server.url("/loop"))
    assert server.hits["/loop"] == 4


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_peer_address_checked_after_connect(server, dialled, scheme):
    """DNS rebinding: the name checked as public, the socket reached loopback: refused (for
    https before the TLS handshake)."""
    server.add("/a.jpg", jpeg_bytes(photo()))
    policy = UrlPolicy(resolver=lambda host, port: ["93.184.216.34"])
    with _fetcher(policy=policy) as fetcher, pytest.raises(UrlRefused, match="connected peer"):
        fetcher.fetch(f"{scheme}://rebind.test:{server.port}/a.jpg")
    assert dialled == [("rebind.test", server.port)] and server.hits["/a.jpg"] == 0


def test_slow_response_times_out(server, dialled):
    limits = FetchLimits(connect_timeout=1, read_timeout=0.3, retries=1, backoff=0.01)
    with _fetcher(limits=limits) as fetcher, pytest.raises(FetchError, match="timed out.*2 attempts"):
        fetcher.fetch(server.url("/slow.jpg"))


def test_trickling_body_cut_off_by_per_file_deadline(server, dialled):
    limits = FetchLimits(read_timeout=2, total_timeout=0.5, retries=0)
    with _fetcher(limits=limits) as fetcher, pytest.raises(FetchError, match="too slow"):
        fetcher.fetch(server.url("/trickle.jpg"))


def test_endless_body_stops_at_the_size_cap(server, dialled):
    limits = FetchLimits(max_bytes=1_000_000, retries=0)
    with _fetcher(limits=limits) as fetcher, pytest.raises(FetchError, match="exceeds the limit of 1000000"):
        fetcher.fetch(server.url("/endless.jpg"))
    # the server notices the closed connection and stops: what it pushed is bounded by socket buffers
    sent = -1
    for _ in range(50):
        if server.hits["/endless.jpg#bytes"] == sent:
            break
        sent = server.hits["/endless.jpg#bytes"]
        time.sleep(0.1)
    assert sent == server.hits["/endless.jpg#bytes"] and sent < 64_000_000


def test_declared_oversize_refused_without_reading(server, dialled):
    with _fetcher() as fetcher, pytest.raises(FetchError, match="declares"):
        fetcher.fetch(server.url("/declares-huge.jpg"))


def test_gzip_encoded_body_decoded_and_gzip_bomb_capped(server, dialled):
    jpg = jpeg_bytes(photo())
    server.add("/gz.jpg", gzip_body(jpg), headers={"Content-Encoding": "gzip"})
    bomb = gzip_body(b"\x00" * 50_000_000)
    assert len(bomb) < 100_000
    server.add("/bomb.jpg", bomb, headers={"Content-Encoding": "gzip"})
    server.add("/br.jpg", b"xx", headers={"Content-Encoding": "br"})
    with _fetcher(limits=FetchLimits(max_bytes=2_000_000, retries=0)) as fetcher:
        assert fetcher.fetch(server.url("/gz.jpg")).data == jpg
        with pytest.raises(FetchError, match="exceeds the limit"):
            fetcher.fetch(server.url("/bomb.jpg"))
        with pytest.raises(FetchError, match="unsupported content encoding"):
            fetcher.fetch(server.url("/br.jpg"))


def test_429_retry_after_honoured(server, dialled):
    jpg = jpeg_bytes(photo())
    server.add("/busy.jpg", jpg)
    server.fail_first["/busy.jpg"] = (1, 429, "1")
    start = time.monotonic()
    with _fetcher() as fetcher:
        download = fetcher.fetch(server.url("/busy.jpg"))
    assert download.data == jpg and download.attempts == 2 and server.hits["/busy.jpg"] == 2
    assert time.monotonic() - start >= 0.95  # waited as asked


def test_retry_after_capped(server, dialled):
    server.add("/busy.jpg", jpeg_bytes(photo()))
    server.fail_first["/busy.jpg"] = (2, 503, "86400")
    limits = FetchLimits(retries=2, max_retry_after=0.05)
    with _fetcher(limits=limits) as fetcher:
        assert fetcher.fetch(server.url("/busy.jpg")).attempts == 3


def test_persistent_5xx_gives_up_and_4xx_is_not_retried(server, dialled):
    server.add("/down.jpg", b"")
    server.fail_first["/down.jpg"] = (99, 503, None)
    with _fetcher() as fetcher:
        with pytest.raises(FetchError, match="HTTP 503 .gave up after 3 attempts"):
            fetcher.fetch(server.url("/down.jpg"))
        with pytest.raises(FetchError, match="HTTP 404"):
            fetcher.fetch(server.url("/missing.jpg"))
    assert server.hits["/down.jpg"] == 3 and server.hits["/missing.jpg"] == 1


def test_run_budget(server, dialled):
    jpg = jpeg_bytes(photo())
    server.add("/a.jpg", jpg)
    budget = ByteBudget(len(jpg) + 10)
    with _fetcher(budget=budget) as fetcher:
        fetcher.fetch(server.url("/a.jpg"))
        with pytest.raises(BudgetExhausted):
            fetcher.fetch(server.url("/a.jpg"))
    assert budget.exhausted


def test_cancel_checked_before_and_during_backoff(server, dialled):
    server.add("/busy.jpg", b"")
    server.fail_first["/busy.jpg"] = (99, 429, "30")
    with _fetcher() as fetcher:
        with pytest.raises(Cancelled):
            fetcher.fetch(server.url("/busy.jpg"), is_cancelled=lambda: True)
        flag = threading.Event()
        threading.Timer(0.3, flag.set).start()
        start = time.monotonic()
        with pytest.raises(Cancelled):
            fetcher.fetch(server.url("/busy.jpg"), is_cancelled=flag.is_set)
        assert time.monotonic() - start < 5  # not the 30 s the server asked for


def test_parse_retry_after():
    assert parse_retry_after("120") == 120
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=1445412480.0) == pytest.approx(30)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412600.0) == 0
