"""HTTP downloads of post media: pooled, bounded, guarded, retried, cancellable.

One `requests.Session` with a connection pool as large as the worker pool is shared by all
workers. Every hop (the first request and each redirect, followed by hand) is checked by
`urlguard` before a connection is made, and the connected socket's peer is checked again.
Bodies are streamed and counted as they arrive, so a server that sends too much or never stops
costs at most the per-file limit, and a trickling server is cut off by the per-file deadline.
"""

from __future__ import annotations

import email.utils
import random
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
    total_timeout: float = 120.0  # per file, wall clock: a server trickling bytes is cut off
    max_bytes: int = 50 * 1024 * 1024
    retries: int = 2
    backoff: float = 0.5  # first wait; doubled each retry, with jitter
    max_retry_after: float = 30.0  # a server's Retry-After is honoured up to this
    user_agent: str = "MIST-QGIS/0.1 (flood-photo screening plugin for QGIS)"


class FetchError(MistError):
    """The media could not be fetched; `str(exc)` is the reason stored on the media row."""


class BudgetExhausted(MistError):
    """The run's byte budget is used up; remaining rows stay pending."""


class _Retryable(FetchError):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
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

    class GuardedHTTPConnection(HTTPConnection):
        def _new_conn(self):
            return checked(super()._new_conn())

    class GuardedHTTPSConnection(HTTPSConnection):
        def _new_conn(self):
            return checked(super()._new_conn())

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

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> HttpFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch(self, url: str, is_cancelled: IsCancelled | None = None,
              headers: dict[str, str] | None = None) -> Download:
        """Download `url` or raise FetchError / UrlRefused / Cancelled / BudgetExhausted.

        `headers`: extra request headers, e.g. If-None-Match / If-Modified-Since for a polled
        feed; a 304 answer then comes back as a Download with status 304 and no data."""
        is_cancelled = is_cancelled or (lambda: False)
        attempt = 0
        while True:
            if is_cancelled():
                raise Cancelled("cancelled")
            try:
                download = self._fetch_once(url, is_cancelled, headers)
                download.attempts = attempt + 1
                return download
            except _Retryable as exc:
                if attempt >= self.limits.retries:
                    raise FetchError(f"{exc} (gave up after {attempt + 1} attempts)") from exc
                if exc.retry_after is not None:
                    delay = min(exc.retry_after, self.limits.max_retry_after)
                else:
                    delay = self.limits.backoff * (2 ** attempt) * (1.0 + 0.25 * random.random())
                _sleep(delay, is_cancelled)
                attempt += 1

    def _fetch_once(self, url: str, is_cancelled: IsCancelled, headers: dict[str, str] | None = None) -> Download:
        import requests
        import urllib3

        limits = self.limits
        deadline = time.monotonic() + limits.total_timeout
        current = url
        hops: list[str] = []
        for _ in range(self.policy.max_redirects + 1):
            check_url(current, self.policy)
            try:
                response = self.session.get(
                    current, stream=True, allow_redirects=False, headers=headers,
                    timeout=(limits.connect_timeout, limits.read_timeout),
                )
            except requests.Timeout as exc:
                raise _Retryable(f"timed out ({type(exc).__name__})") from exc
            except requests.ConnectionError as exc:
                raise _Retryable(f"connection failed: {_short(exc)}") from exc
            except requests.RequestException as exc:
                raise FetchError(f"request failed: {_short(exc)}") from exc
            with response:
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
                    data = self._read_body(response, is_cancelled, deadline)
                except (urllib3.exceptions.HTTPError, requests.RequestException, OSError, HTTPException) as exc:
                    raise _Retryable(f"connection broke while reading: {_short(exc)}") from exc
                return Download(url, current, data, response.headers.get("Content-Type"), redirects=hops,
                                etag=response.headers.get("ETag"),
                                last_modified=response.headers.get("Last-Modified"))
        raise FetchError(f"more than {self.policy.max_redirects} redirects")

    def _read_body(self, response, is_cancelled: IsCancelled, deadline: float) -> bytes:
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
            if is_cancelled():
                raise Cancelled("cancelled")
            if time.monotonic() > deadline:
                raise FetchError(f"too slow: not complete after {self.limits.total_timeout:g} s")
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
