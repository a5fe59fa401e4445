"""Safety by default, as ASGI middleware: each class guards against one thing and answers in the one error shape.

Outermost first, as :func:`medevidence.web.create_app` stacks them:

- :class:`SecurityHeaders`: a CSP that allows no inline script, nosniff, no framing, no referrer.
- :class:`HostGuard`: only the configured Host names, so a DNS-rebinding page cannot reach a
  server bound to 127.0.0.1 under its own name.
- :class:`RateLimit`: a token bucket per client address (429 with Retry-After).
- :class:`BodyLimit`: request bodies over the limit get 413, before or while they are read.
- :class:`CrossOriginGuard`: a POST that a browser marks as coming from another site gets 403.
  Browsers send form and multipart posts cross-site without asking; ``Sec-Fetch-Site`` and
  ``Origin`` say where they came from. Scripts and curl send neither and are let through.
- :class:`CsrfCookie` with :func:`check_form_token`: the double-submit token of HTML forms, signed
  with the server's key so a token cannot be made up.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import WebError, error_response

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

CSRF_COOKIE = "medevidence_csrf"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def _reject(scope: Scope, receive: Receive, send: Send, error: WebError) -> None:
    await error_response(Request(scope, receive), error)(scope, receive, send)


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every response that has not set its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    # A page with its own inline assets (the standalone answer) sets a narrower CSP itself.
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _host_name(host_header: str) -> str:
    """``example.org`` from ``example.org:8000``, ``::1`` from ``[::1]:8000``."""
    if host_header.startswith("["):
        return host_header[1:].split("]", 1)[0]
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


class HostGuard:
    def __init__(self, app: ASGIApp, allowed_hosts: Collection[str]) -> None:
        self.app = app
        self.allow_any = "*" in allowed_hosts
        self.allowed = frozenset(host.lower() for host in allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.allow_any:
            host = Headers(scope=scope).get("host", "")
            if _host_name(host).lower() not in self.allowed:
                allowed = ", ".join(sorted(self.allowed))
                error = WebError(
                    400,
                    f"this server does not answer to the host name {host!r}; open it as one of {allowed}, "
                    "or start it with --allow-host NAME",
                )
                await _reject(scope, receive, send, error)
                return
        await self.app(scope, receive, send)


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """Per-key token buckets: ``burst`` requests at once, refilled at ``per_minute`` a minute."""

    MAX_KEYS = 10_000

    def __init__(self, per_minute: int, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(max(burst, 1))
        self.buckets: dict[str, _Bucket] = {}

    def take(self, key: str, now: float) -> float:
        """Take a token; 0.0 when granted, else the seconds until one is available."""
        bucket = self.buckets.get(key)
        if bucket is None:
            if len(self.buckets) >= self.MAX_KEYS:
                self._forget_full(now)
            bucket = self.buckets[key] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        # A bucket that has refilled is the same as a new one, so dropping it loses nothing.
        for key, bucket in list(self.buckets.items()):
            if bucket.tokens + (now - bucket.updated) * self.rate >= self.burst:
                del self.buckets[key]


class RateLimit:
    def __init__(self, app: ASGIApp, per_minute: int, burst: int, exempt_prefixes: tuple[str, ...]) -> None:
        self.app = app
        self.per_minute = per_minute
        self.burst = burst
        self.buckets = TokenBuckets(per_minute, burst) if per_minute > 0 else None
        self.exempt_prefixes = exempt_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.buckets is None or scope["type"] != "http" or scope["path"].startswith(self.exempt_prefixes):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else "unknown"
        wait = self.buckets.take(address, time.monotonic())
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            error = WebError(
                429,
                f"too many requests from {address}: this server takes {self.per_minute} a minute with bursts of "
                f"{self.burst}; wait {seconds} s and try again",
                headers={"Retry-After": str(seconds)},
            )
            await _reject(scope, receive, send, error)
            return
        await self.app(scope, receive, send)


def _size(count: float) -> str:
    return f"{count / 1e6:,.1f} MB" if count >= 1e6 else f"{count / 1e3:,.0f} KB"


class BodyLimit:
    """Request bodies up to ``limit`` bytes, or ``upload_limit`` on the upload paths."""

    def __init__(self, app: ASGIApp, limit: int, upload_limit: int, upload_paths: Collection[str]) -> None:
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit
        self.upload_paths = frozenset(upload_paths)

    def _too_large(self, size: str, upload: bool) -> WebError:
        if upload:
            limit = _size(self.upload_limit)
            fix = "upload fewer or smaller files at a time, or start the server with a higher --max-upload-mb"
        else:
            limit = _size(self.limit)
            fix = "shorten the question or the case"
        return WebError(413, f"the request body is {size}, over this server's {limit} limit; {fix}")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = scope["path"] in self.upload_paths
        limit = self.upload_limit if upload else self.limit
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _reject(scope, receive, send, self._too_large(_size(int(declared)), upload))
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Raised into whatever is reading the body; the error handlers turn it into the 413.
                    raise self._too_large(f"more than {_size(limit)}", upload)
            return message

        await self.app(scope, counted, send)


class CrossOriginGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in UNSAFE_METHODS:
            headers = Headers(scope=scope)
            origin = headers.get("origin")
            site = headers.get("sec-fetch-site")
            cross_site = site is not None and site not in ("same-origin", "none")
            if site is None and origin is not None:
                cross_site = origin == "null" or urlsplit(origin).netloc.lower() != headers.get("host", "").lower()
            if cross_site:
                source = origin or "another site"
                error = WebError(
                    403,
                    f"refused a {scope['method']} sent to this server by a page on {source}; "
                    "use this server's own pages, or call the API from a script",
                )
                await _reject(scope, receive, send, error)
                return
        await self.app(scope, receive, send)


class CsrfTokens:
    """Tokens ``nonce.signature``: random, and signed so only this server can have made one."""

    def __init__(self, secret: str) -> None:
        self.key = hashlib.sha256(secret.encode("utf-8")).digest() if secret else secrets.token_bytes(32)

    def _signature(self, nonce: str) -> str:
        digest = hmac.new(self.key, nonce.encode("ascii"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")

    def issue(self) -> str:
        nonce = secrets.token_urlsafe(18)
        return f"{nonce}.{self._signature(nonce)}"

    def valid(self, token: str | None) -> bool:
        if not token or token.count(".") != 1 or not token.isascii():
            return False
        nonce, signature = token.split(".")
        return hmac.compare_digest(signature, self._signature(nonce))


class CsrfCookie:
    """Gives each browser a signed token in a cookie and in ``request.state.csrf_token`` for forms."""

    def __init__(self, app: ASGIApp, tokens: CsrfTokens, skip_prefixes: tuple[str, ...]) -> None:
        self.app = app
        self.tokens = tokens
        self.skip_prefixes = skip_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.skip_prefixes):
            await self.app(scope, receive, send)
            return
        cookies = SimpleCookie(Headers(scope=scope).get("cookie", ""))
        morsel = cookies.get(CSRF_COOKIE)
        current = morsel.value if morsel is not None else None
        token = current if self.tokens.valid(current) else self.tokens.issue()
        scope.setdefault("state", {})["csrf_token"] = token
        if token == current:
            await self.app(scope, receive, send)
            return
        secure = "; Secure" if scope.get("scheme") == "https" else ""
        cookie = f"{CSRF_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{secure}"

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("Set-Cookie", cookie)
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def check_form_token(request: Request, submitted: object) -> None:
    """Refuse a form post whose token is not the one in this browser's cookie."""
    expected = request.cookies.get(CSRF_COOKIE)
    tokens: CsrfTokens = request.app.state.csrf_tokens
    if not (
        isinstance(submitted, str)
        and expected
        and tokens.valid(expected)
        and hmac.compare_digest(submitted.encode("ascii", "replace"), expected.encode("ascii", "replace"))
    ):
        raise WebError(
            403,
            "this form's security token is missing or out of date (the server may have restarted); "
            "reload the page and submit it again",
        )
