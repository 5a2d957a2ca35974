"""The fetcher against a hostile HTTP server on 127.0.0.1.

Only this module's tests open the loopback exception (UrlPolicy.allowing(["127.0.0.1/32"])).
Every connection MIST makes is recorded by a wrapper around the sockets' `connect` that fails
the test if anything but 127.0.0.1 is dialled, so the refusals below are proven to happen
before a connection attempt and no traffic ever leaves the machine.
"""

from __future__ import annotations

import dataclasses
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
    """Addresses MIST connects to, recorded on every socket's `connect`; anything but loopback
    (or the rebinding test's public address, sent to loopback) fails the test before a packet
    leaves."""
    import socket

    real = socket.socket.connect
    seen: list[tuple[str, int]] = []

    def recording(sock, address):
        seen.append(tuple(address[:2]))
        host, port = address[:2]
        if host == "93.184.216.34":
            address = ("127.0.0.1", port)  # a checked public address whose socket reaches loopback anyway
        elif host != "127.0.0.1":
            raise AssertionError(f"MIST tried to connect to {address}")
        return real(sock, address)

    monkeypatch.setattr(socket.socket, "connect", recording)
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
    """The name checked as public and the connection made to that checked address (no second
    lookup for a rebinding answer to change), yet the socket reached loopback: refused (for
    https before the TLS handshake)."""
    server.add("/a.jpg", jpeg_bytes(photo()))
    policy = UrlPolicy(resolver=lambda host, port: ["93.184.216.34"])
    with _fetcher(policy=policy) as fetcher, pytest.raises(UrlRefused, match="connected peer"):
        fetcher.fetch(f"{scheme}://rebind.test:{server.port}/a.jpg")
    assert dialled == [("93.184.216.34", server.port)] and server.hits["/a.jpg"] == 0


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
    with _fetcher(limits=dataclasses.replace(FAST, total_timeout=60)) as fetcher:
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


# -- one deadline per file -------------------------------------------------------------------


class TrickleServer:
    """A raw HTTP server on 127.0.0.1 that sends what it must one byte at a time.

    Paths: `/headers` trickles a header line forever, `/location` trickles a redirect's
    Location, `/hop/N` answers a redirect to `/hop/N-1` after `hop_delay` seconds (`/hop/0` is a
    small body). Trickles stop after 40 s or when the server stops, so a broken fetcher fails
    the test instead of hanging it.
    """

    def __init__(self, hop_delay: float = 0.4) -> None:
        import socketserver

        self.stop = threading.Event()
        self.hop_delay = hop_delay
        self.requests: list[str] = []
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                sock = self.request
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = sock.recv(4096)
                    if not chunk:
                        return
                    data += chunk
                path = data.split(b" ", 2)[1].decode()
                outer.requests.append(path)
                try:
                    outer.answer(sock, path)
                except OSError:
                    pass

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _trickle(self, sock, head: bytes, endless: bytes) -> None:
        sock.sendall(head)
        end = time.monotonic() + 40
        while not self.stop.wait(0.2) and time.monotonic() < end:
            sock.sendall(endless[:1])
            endless = endless[1:] or b"x"

    def answer(self, sock, path: str) -> None:
        if path == "/headers":
            self._trickle(sock, b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nX-Slow: ", b"x")
        elif path == "/location":
            self._trickle(sock, b"HTTP/1.1 302 Found\r\nLocation: " + self.url("/").encode(), b"a")
        elif path.startswith("/hop/"):
            left = int(path.rsplit("/", 1)[1])
            self.stop.wait(self.hop_delay)
            if left == 0:
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: 2\r\n\r\nok")
            else:
                sock.sendall(b"HTTP/1.1 302 Found\r\nContent-Length: 0\r\nLocation: "
                             + f"/hop/{left - 1}".encode() + b"\r\n\r\n")
        else:
            sock.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")

    def __enter__(self) -> TrickleServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def trickler():
    with TrickleServer() as s:
        yield s


ONE_SECOND = FetchLimits(connect_timeout=2, read_timeout=2, total_timeout=1, retries=2, backoff=0.05)
BOUND = 6.0  # seconds: a correctness bound far above the 1 s deadline, not a speed target


@pytest.mark.parametrize("path", ["/headers", "/location"])
def test_trickled_headers_or_location_cut_off_by_the_deadline(trickler, dialled, path):
    """Each byte arrives well within the read timeout, so only a deadline over the whole
    response can stop it."""
    start = time.monotonic()
    with _fetcher(limits=ONE_SECOND) as fetcher, pytest.raises(FetchError, match="too slow: not complete after 1 s"):
        fetcher.fetch(trickler.url(path))
    assert time.monotonic() - start < BOUND
    assert trickler.requests == [path]  # no retry after the deadline


def test_a_chain_of_slow_redirects_shares_one_deadline(trickler, dialled):
    """Five hops of 0.4 s each: every hop is quick, the chain is not."""
    start = time.monotonic()
    with _fetcher(limits=ONE_SECOND) as fetcher, pytest.raises(FetchError, match="too slow"):
        fetcher.fetch(trickler.url("/hop/5"))
    assert time.monotonic() - start < BOUND
    assert len(trickler.requests) < 6
    with _fetcher(limits=dataclasses.replace(ONE_SECOND, total_timeout=30)) as fetcher:
        assert fetcher.fetch(trickler.url("/hop/2")).data == b"ok"  # the same chain, given time


def test_cancel_stops_a_fetch_in_the_middle_of_a_header(trickler, dialled):
    flag = threading.Event()
    threading.Timer(0.5, flag.set).start()
    limits = dataclasses.replace(ONE_SECOND, total_timeout=60)
    start = time.monotonic()
    with _fetcher(limits=limits) as fetcher, pytest.raises(Cancelled):
        fetcher.fetch(trickler.url("/headers"), is_cancelled=flag.is_set)
    assert time.monotonic() - start < BOUND


def test_retries_stay_within_the_deadline(server, dialled):
    server.add("/down.jpg", b"")
    server.fail_first["/down.jpg"] = (99, 503, "0")
    server.latency = 0.3
    limits = dataclasses.replace(ONE_SECOND, retries=50)
    start = time.monotonic()
    with _fetcher(limits=limits) as fetcher, pytest.raises(FetchError):
        fetcher.fetch(server.url("/down.jpg"))
    assert time.monotonic() - start < BOUND
    assert server.hits["/down.jpg"] <= 5


def test_name_resolution_is_within_the_deadline_and_cancellable(trickler, dialled):
    released = threading.Event()

    def hanging_resolver(host, port):
        released.wait(40)  # a DNS server that never answers
        return ["127.0.0.1"]

    policy = UrlPolicy.allowing(["127.0.0.1/32"], resolver=hanging_resolver)
    try:
        start = time.monotonic()
        with _fetcher(policy=policy, limits=ONE_SECOND) as fetcher, pytest.raises(FetchError, match="too slow"):
            fetcher.fetch("http://slow-dns.test/a.jpg")
        assert time.monotonic() - start < BOUND
        flag = threading.Event()
        threading.Timer(0.3, flag.set).start()
        start = time.monotonic()
        with _fetcher(policy=policy, limits=dataclasses.replace(ONE_SECOND, total_timeout=60)) as fetcher:
            with pytest.raises(Cancelled):
                fetcher.fetch("http://slow-dns.test/a.jpg", is_cancelled=flag.is_set)
        assert time.monotonic() - start < BOUND
    finally:
        released.set()
    assert dialled == []


@pytest.fixture
def unanswered_port():
    """A port on 127.0.0.1 whose accept queue is full: a new connection attempt waits for an
    answer that never comes, as with a host that drops SYNs."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    queued = []
    for _ in range(8):
        probe = socket.socket()
        probe.settimeout(0.3)
        try:
            probe.connect(("127.0.0.1", port))
        except OSError:
            probe.close()
            break
        queued.append(probe)
    else:
        pytest.skip("this kernel accepts every connection attempt")
    yield port
    for probe in queued:
        probe.close()
    listener.close()


def test_cancel_stops_a_connection_attempt_that_waits_for_an_answer(unanswered_port, dialled):
    limits = dataclasses.replace(ONE_SECOND, connect_timeout=30, total_timeout=60, retries=0)
    flag = threading.Event()
    threading.Timer(0.5, flag.set).start()
    start = time.monotonic()
    with _fetcher(limits=limits) as fetcher, pytest.raises(Cancelled):
        fetcher.fetch(f"http://127.0.0.1:{unanswered_port}/a.jpg", is_cancelled=flag.is_set)
    assert time.monotonic() - start < BOUND  # not the 30 s connect timeout
    limits = dataclasses.replace(limits, total_timeout=1)
    start = time.monotonic()
    with _fetcher(limits=limits) as fetcher, pytest.raises(FetchError, match="too slow"):
        fetcher.fetch(f"http://127.0.0.1:{unanswered_port}/a.jpg")
    assert time.monotonic() - start < BOUND
