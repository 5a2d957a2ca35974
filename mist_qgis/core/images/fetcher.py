"""HTTP downloads of post media: pooled, bounded, guarded, retried, cancellable.

One `requests.Session` with a connection pool as large as the worker pool is shared by all
workers. Every hop (the first request and each redirect, followed by hand) is checked by
`urlguard` before a connection is made, and the connected socket's peer is checked again.
Bodies are streamed and counted as they arrive, so a server that sends too much or never stops
costs at most the per-file limit.

One deadline per file covers everything: name resolution, connecting, the response headers of
every hop (a redirect's `Location` included), the body and the waits between retries. Socket
timeouts alone cannot give that (a server sending one header byte a second resets them
forever), so a watchdog thread shuts down the socket of a fetch whose deadline has passed or
whose cancel check says stop; the blocked worker wakes at once. Connections go to the addresses
the guard checked (no second DNS lookup for a rebinding answer to change).
"""

from __future__ import annotations

import dataclasses
import email.utils
import random
import socket
import threading
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.client import HTTPException
from urllib.parse import urljoin

from ..errors import Cancelled, MistError
from ..stage import IsCancelled
from .urlguard import UrlPolicy, UrlRefused, check_url

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
CHUNK = 64 * 1024


@dataclass(frozen=True)
class FetchLimits:
    """Per-request limits. Times in seconds, sizes in bytes."""

    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    total_timeout: float = 120.0  # per file, wall clock: DNS, connect, every hop, the body and retries
    max_bytes: int = 50 * 1024 * 1024
    retries: int = 2
    backoff: float = 0.5  # first wait; doubled each retry, with jitter
    max_retry_after: float = 30.0  # a server's Retry-After is honoured up to this
    user_agent: str = "MIST-QGIS/0.1 (flood-photo screening plugin for QGIS)"


class FetchError(MistError):
    """The media could not be fetched; `str(exc)` is the reason stored on the media row.
    `transient`: the failure may pass (a timeout, a 5xx, a refused or broken connection), so a
    later try may succeed; a 404, a refused URL or a body over the limit will not."""

    def __init__(self, reason: str, transient: bool = False) -> None:
        super().__init__(reason)
        self.transient = transient


class BudgetExhausted(MistError):
    """The run's byte budget is used up; remaining rows stay pending."""


class _Retryable(FetchError):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason, transient=True)
        self.retry_after = retry_after


class ByteBudget:
    """Bytes a whole run may download, shared by all workers (None: unlimited)."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.used = 0
        self._lock = threading.Lock()

    def take(self, n: int) -> None:
        with self._lock:
            if self.limit is not None and self.used + n > self.limit:
                self.used = self.limit
                raise BudgetExhausted(f"the run's limit of {self.limit} bytes is reached")
            self.used += n

    @property
    def exhausted(self) -> bool:
        with self._lock:
            return self.limit is not None and self.used >= self.limit


@dataclass
class Download:
    url: str
    final_url: str
    data: bytes
    content_type: str | None
    attempts: int = 1
    redirects: list[str] = field(default_factory=list)
    status: int = 200  # 304 when a conditional request found nothing new (data is empty)
    etag: str | None = None
    last_modified: str | None = None


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now_dt = datetime.fromtimestamp(now if now is not None else time.time(), UTC)
    return max(0.0, (when - now_dt).total_seconds())


WATCH_INTERVAL = 0.1  # seconds between the watchdog's looks at the fetches in flight

_current = threading.local()  # the FetchClock of the fetch running on this thread


class FetchClock:
    """The deadline and cancel check of one fetch, and the sockets it is using right now.

    `trip()` is called by the watchdog from its own thread: once the deadline has passed or the
    cancel check is true it shuts the sockets down, which ends any blocking read or write on them
    immediately; the worker then sees `raise_if_tripped()` say why.
    """

    def __init__(self, seconds: float, cancel: IsCancelled) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.cancel = cancel
        self.cancelled = False
        self.expired = False
        self.pinned: dict[tuple[str, int], tuple[str, ...]] = {}  # host, port -> checked addresses
        self._sockets: set[socket.socket] = set()
        self._closed = False
        self._lock = threading.Lock()

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def attach(self, sock: socket.socket | None) -> bool:
        """Watch `sock` from now on; True (and the socket shut) if the fetch is already stopped."""
        if sock is None:
            return False
        with self._lock:
            if self._closed:
                return False
            self._sockets.add(sock)
            tripped = self.cancelled or self.expired
        if tripped:
            _shutdown(sock)
        return tripped

    def trip(self) -> bool:
        """Stop the fetch if its time is up or it was cancelled; True once it is stopped."""
        with self._lock:
            if self._closed:
                return True
            if not (self.cancelled or self.expired):
                if time.monotonic() > self.deadline:
                    self.expired = True
                else:
                    try:
                        self.cancelled = bool(self.cancel())
                    except Exception:  # noqa: BLE001 (a broken cancel check must not kill the watchdog)
                        self.cancelled = False
            if not (self.cancelled or self.expired):
                return False
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)
        return True

    def raise_if_tripped(self) -> None:
        """Raise Cancelled or the deadline's FetchError if the fetch has been stopped."""
        if not (self.cancelled or self.expired):
            if self.remaining() <= 0:
                self.expired = True
            elif self.cancel():
                self.cancelled = True
        if self.cancelled:
            raise Cancelled("cancelled")
        if self.expired:
            raise FetchError(f"too slow: not complete after {self.seconds:g} s", transient=True)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._sockets.clear()


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


class _Watchdog:
    """One thread per fetcher that trips the clocks of fetches past their deadline or cancelled."""

    def __init__(self) -> None:
        self._clocks: set[FetchClock] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, clock: FetchClock) -> None:
        with self._lock:
            self._clocks.add(clock)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="mist-fetch-watchdog", daemon=True)
                self._thread.start()

    def forget(self, clock: FetchClock) -> None:
        with self._lock:
            self._clocks.discard(clock)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def _run(self) -> None:
        while not self._stop.wait(WATCH_INTERVAL):
            with self._lock:
                clocks = list(self._clocks)
            for clock in clocks:
                clock.trip()


def _current_clock() -> FetchClock | None:
    return getattr(_current, "clock", None)


def bounded_resolver(resolve, clock: FetchClock):
    """`resolve` run in a helper thread, so a DNS server that never answers costs the fetch no
    more than its deadline and a cancel is noticed within the watchdog's interval."""

    def resolve_within(host: str, port: int) -> list[str]:
        box: dict[str, object] = {}

        def work() -> None:
            try:
                box["value"] = resolve(host, port)
            except BaseException as exc:  # noqa: BLE001 (handed back to the fetching thread)
                box["error"] = exc

        thread = threading.Thread(target=work, name="mist-resolve", daemon=True)
        thread.start()
        while thread.is_alive():
            clock.raise_if_tripped()
            thread.join(timeout=min(WATCH_INTERVAL, max(0.01, clock.remaining())))
        if "error" in box:
            raise box["error"]  # type: ignore[misc]
        return box["value"]  # type: ignore[return-value]

    return resolve_within


def make_session(policy: UrlPolicy, pool_size: int, user_agent: str):
    """A Session whose connections refuse peers the policy forbids; no proxies or .netrc from
    the environment (a proxy would resolve hosts out of the guard's sight)."""
    import requests

    session = requests.Session()
    session.trust_env = False
    session.headers.update({
        "User-Agent": user_agent,
        "Accept": "image/avif,image/webp,image/jpeg,image/png,image/*;q=0.9,video/*;q=0.8,*/*;q=0.1",
        "Accept-Encoding": "identity",
    })
    adapter = _guarded_adapter(policy, pool_size)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _guarded_adapter(policy: UrlPolicy, pool_size: int):
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    def checked(sock):
        try:
            peer = sock.getpeername()[0]
        except OSError:
            sock.close()
            raise
        reason = policy.address_refusal(peer)
        if reason:
            sock.close()
            raise UrlRefused(f"connected peer refused: {reason}")
        return sock

    def new_conn(conn, fallback):
        """Connect to the addresses the guard checked for this host (in order), attach the
        socket to the fetch's clock and check the connected peer."""
        clock = _current_clock()
        addresses = clock.pinned.get((conn.host.lower(), conn.port)) if clock is not None else None
        if not addresses:
            sock = fallback()
            if clock is not None:
                clock.attach(sock)
        else:
            sock = _connect_first(conn, addresses, clock)
        return checked(sock)

    class GuardedHTTPConnection(HTTPConnection):
        def _new_conn(self):
            return new_conn(self, super()._new_conn)

        def getresponse(self, *args, **kwargs):
            clock = _current_clock()
            if clock is not None:  # a pooled connection reused by this fetch
                clock.attach(self.sock)
            return super().getresponse(*args, **kwargs)

    class GuardedHTTPSConnection(HTTPSConnection):
        def _new_conn(self):
            return new_conn(self, super()._new_conn)

        def getresponse(self, *args, **kwargs):
            clock = _current_clock()
            if clock is not None:
                clock.attach(self.sock)
            return super().getresponse(*args, **kwargs)

    class GuardedHTTPPool(HTTPConnectionPool):
        ConnectionCls = GuardedHTTPConnection

    class GuardedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = GuardedHTTPSConnection

    class GuardedAdapter(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": GuardedHTTPPool, "https": GuardedHTTPSPool}

        def proxy_manager_for(self, proxy, **proxy_kwargs):
            raise UrlRefused("fetching through a proxy is not supported (the address guard cannot see the target)")

    return GuardedAdapter(pool_connections=4, pool_maxsize=max(1, pool_size), max_retries=0, pool_block=False)


def _connect_first(conn, addresses: tuple[str, ...], clock: FetchClock):
    """A socket to the first of `addresses` that accepts, made as urllib3's own `_new_conn` makes
    it (same options, same exceptions) but without resolving the host name again, and watched by
    the fetch's clock before it connects: shutting down a socket that is still connecting ends the
    attempt at once, so a cancel does not wait out the connect timeout."""
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

    timeout = conn.timeout if isinstance(conn.timeout, int | float) else None
    error: Exception | None = None
    for address in addresses:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            for option in getattr(conn, "socket_options", None) or ():
                sock.setsockopt(*option)
            if getattr(conn, "source_address", None):
                sock.bind(conn.source_address)
            if clock.attach(sock):
                clock.raise_if_tripped()
            sock.settimeout(timeout)
            sock.connect((address, conn.port))
            return sock
        except TimeoutError as exc:
            sock.close()
            error = ConnectTimeoutError(conn, f"connection to {conn.host} timed out (connect timeout={timeout})")
            error.__cause__ = exc
        except OSError as exc:
            sock.close()
            clock.raise_if_tripped()
            error = NewConnectionError(conn, f"failed to establish a new connection: {exc}")
            error.__cause__ = exc
        except BaseException:
            sock.close()
            raise
    assert error is not None
    raise error


class HttpFetcher:
    """Thread-safe downloader; one instance per run, shared by the worker threads."""

    def __init__(
        self, policy: UrlPolicy, limits: FetchLimits | None = None, pool_size: int = 16,
        budget: ByteBudget | None = None,
    ) -> None:
        self.policy = policy
        self.limits = limits or FetchLimits()
        self.budget = budget or ByteBudget(None)
        self.session = make_session(policy, pool_size, self.limits.user_agent)
        self._watchdog = _Watchdog()

    def close(self) -> None:
        self._watchdog.stop()
        self.session.close()

    def __enter__(self) -> HttpFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch(self, url: str, is_cancelled: IsCancelled | None = None,
              headers: dict[str, str] | None = None) -> Download:
        """Download `url` or raise FetchError / UrlRefused / Cancelled / BudgetExhausted.

        Everything, retries included, happens within `limits.total_timeout` seconds; a cancel
        takes effect within about `WATCH_INTERVAL` seconds, even in the middle of a header.
        `headers`: extra request headers, e.g. If-None-Match / If-Modified-Since for a polled
        feed; a 304 answer then comes back as a Download with status 304 and no data.
        """
        clock = FetchClock(self.limits.total_timeout, is_cancelled or (lambda: False))
        previous = _current_clock()
        _current.clock = clock
        self._watchdog.watch(clock)
        try:
            return self._fetch_attempts(url, clock, headers)
        finally:
            self._watchdog.forget(clock)
            clock.close()
            _current.clock = previous

    def _fetch_attempts(self, url: str, clock: FetchClock, headers: dict[str, str] | None) -> Download:
        attempt = 0
        while True:
            clock.raise_if_tripped()
            try:
                download = self._fetch_once(url, clock, headers)
                download.attempts = attempt + 1
                return download
            except _Retryable as exc:
                clock.raise_if_tripped()  # a broken connection may be the watchdog's doing
                if attempt >= self.limits.retries:
                    raise FetchError(f"{exc} (gave up after {attempt + 1} attempts)", transient=True) from exc
                if exc.retry_after is not None:
                    delay = min(exc.retry_after, self.limits.max_retry_after)
                else:
                    delay = self.limits.backoff * (2 ** attempt) * (1.0 + 0.25 * random.random())
                if delay >= clock.remaining():
                    raise FetchError(f"{exc} (gave up after {attempt + 1} attempts: another would end after "
                                     f"the {clock.seconds:g} s limit)", transient=True) from exc
                _sleep(delay, clock.cancel)
                attempt += 1

    def _fetch_once(self, url: str, clock: FetchClock, headers: dict[str, str] | None = None) -> Download:
        import requests
        import urllib3

        limits = self.limits
        policy = dataclasses.replace(self.policy, resolver=bounded_resolver(self.policy.resolver, clock))
        current = url
        hops: list[str] = []
        for _ in range(self.policy.max_redirects + 1):
            checked = check_url(current, policy)
            clock.pinned[(checked.host.lower(), checked.port)] = checked.addresses
            left = max(0.01, clock.remaining())
            try:
                response = self.session.get(
                    current, stream=True, allow_redirects=False, headers=headers,
                    timeout=(min(limits.connect_timeout, left), min(limits.read_timeout, left)),
                )
            except requests.Timeout as exc:
                clock.raise_if_tripped()
                raise _Retryable(f"timed out ({type(exc).__name__})") from exc
            except requests.ConnectionError as exc:
                clock.raise_if_tripped()
                raise _Retryable(f"connection failed: {_short(exc)}") from exc
            except requests.RequestException as exc:
                clock.raise_if_tripped()
                raise FetchError(f"request failed: {_short(exc)}") from exc
            with response:
                clock.raise_if_tripped()
                status = response.status_code
                if status in REDIRECT_STATUS:
                    location = response.headers.get("Location")
                    if not location:
                        raise FetchError(f"HTTP {status} redirect without a Location")
                    current = urljoin(current, location)
                    hops.append(current)
                    continue
                if status in RETRY_STATUS or 500 <= status < 600:
                    raise _Retryable(f"HTTP {status}", parse_retry_after(response.headers.get("Retry-After")))
                if status == 304 and headers:
                    return Download(url, current, b"", response.headers.get("Content-Type"), redirects=hops,
                                    status=304, etag=response.headers.get("ETag"),
                                    last_modified=response.headers.get("Last-Modified"))
                if status != 200:
                    raise FetchError(f"HTTP {status}")
                declared = response.headers.get("Content-Length")
                if declared and declared.strip().isdigit() and int(declared) > limits.max_bytes:
                    raise FetchError(
                        f"server declares {int(declared)} bytes, more than the limit of {limits.max_bytes}")
                try:
                    data = self._read_body(response, clock)
                except (urllib3.exceptions.HTTPError, requests.RequestException, OSError, HTTPException) as exc:
                    clock.raise_if_tripped()
                    raise _Retryable(f"connection broke while reading: {_short(exc)}") from exc
                return Download(url, current, data, response.headers.get("Content-Type"), redirects=hops,
                                etag=response.headers.get("ETag"),
                                last_modified=response.headers.get("Last-Modified"))
        raise FetchError(f"more than {self.policy.max_redirects} redirects")

    def _read_body(self, response, clock: FetchClock) -> bytes:
        """Stream the body, counting decoded bytes; stop the moment a limit is passed."""
        limit = self.limits.max_bytes
        encoding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
        if encoding in ("", "identity"):
            decoder = None
        elif encoding in ("gzip", "x-gzip"):
            decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            decoder = zlib.decompressobj()
        else:
            raise FetchError(f"unsupported content encoding {encoding!r}")
        parts: list[bytes] = []
        size = 0
        for raw in _available_chunks(response.raw, CHUNK):
            clock.raise_if_tripped()
            if decoder is not None:
                try:
                    chunk = decoder.decompress(raw, limit - size + 1)  # bounded: a gzip bomb stops here
                except zlib.error as exc:
                    raise FetchError(f"corrupt {encoding} body: {exc}") from exc
            else:
                chunk = raw
            if size + len(chunk) > limit:
                raise FetchError(f"body exceeds the limit of {limit} bytes; stopped reading")
            self.budget.take(len(chunk))
            size += len(chunk)
            parts.append(chunk)
        clock.raise_if_tripped()  # the watchdog's shutdown ends the body like a closed connection
        declared = (response.headers.get("Content-Length") or "").strip()
        if decoder is None and declared.isdigit() and size != int(declared):
            raise _Retryable(f"connection closed after {size} of {int(declared)} bytes")
        response.raw.release_conn()  # read to the end: the connection goes back to the pool
        return b"".join(parts)


def _available_chunks(raw, size: int):
    """Yield whatever bytes have arrived (up to `size`) until the body ends.

    urllib3's `stream()` blocks until a whole chunk is in, so a server sending a byte a second
    would never reach the deadline check; `read1` returns as soon as anything arrives.
    """
    read1 = getattr(raw, "read1", None)  # urllib3 >= 2
    if read1 is not None:
        while chunk := read1(size, decode_content=False):
            yield chunk
        return
    fp = raw._fp  # urllib3 1.26 (Debian's): the http.client response underneath
    while chunk := fp.read1(size):
        yield chunk


def _sleep(seconds: float, is_cancelled: IsCancelled) -> None:
    """Sleep in short steps so a cancel is noticed within 0.1 s."""
    end = time.monotonic() + max(0.0, seconds)
    while True:
        if is_cancelled():
            raise Cancelled("cancelled")
        left = end - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(0.1, left))


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."
