"""The HTTP API and web pages over one library: ``create_app(library_path) -> ASGI app``.

``medevidence serve`` runs it with uvicorn on 127.0.0.1. Routes are thin adapters over
:class:`medevidence.Library` (``api.py`` for JSON under /api, ``pages.py`` for HTML) and the
review :class:`~medevidence.review.Board` (``board_api.py``, ``board_pages.py``, signed in through
``sessions.py``); the guards in ``security.py`` wrap them all, and ``errors.py`` gives every
failure one shape.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from .. import Library, __version__
from . import api, board_api, board_pages, errors, pages
from .board_gate import BoardGate, load_member
from .gate import LibraryGate
from .security import (
    SECURITY_HEADERS,
    BodyLimit,
    CrossOriginGuard,
    CsrfCookie,
    CsrfTokens,
    HostGuard,
    RateLimit,
    SecurityHeaders,
)
from .settings import WebSettings, web_settings
from .uploads import UPLOAD_DIRECTORY

__all__ = ["WebSettings", "create_app"]

STATIC_DIRECTORY = Path(__file__).parent / "static"


def create_app(library_path: str | Path, settings: WebSettings | None = None, **overrides: Any) -> FastAPI:
    """An ASGI app serving the library at ``library_path`` (created if missing), closed on shutdown.

    ``overrides`` are :class:`WebSettings` fields, e.g. ``rate_limit_per_minute=0``.
    """
    chosen = settings if settings is not None else web_settings(**overrides)
    directory = Path(library_path)
    gate = LibraryGate(Library.open(directory))
    board = BoardGate(directory)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        gate.close()
        board.close()

    app = FastAPI(
        title="medevidence",
        version=__version__,
        summary="Graded, span-cited clinical evidence answers from a literature library you control.",
        # Swagger UI loads scripts from a CDN and runs inline ones: neither is allowed here. /openapi.json stays.
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = chosen
    app.state.gate = gate
    app.state.board = board
    app.state.upload_dir = directory / UPLOAD_DIRECTORY
    app.state.jinja = pages.environment()
    app.state.csrf_tokens = CsrfTokens(chosen.secret)
    errors.install(app, SECURITY_HEADERS)
    app.include_router(api.router)
    app.include_router(board_api.router)
    # Pages say who is signed in (the sign-in link, the board's controls); the API takes tokens instead.
    app.include_router(pages.router, dependencies=[Depends(load_member)])
    app.include_router(board_pages.router, dependencies=[Depends(load_member)])
    app.mount("/static", StaticFiles(directory=STATIC_DIRECTORY), name="static")

    # add_middleware wraps what is already there, so the last added runs first on a request.
    app.add_middleware(CsrfCookie, tokens=app.state.csrf_tokens, skip_prefixes=("/api/", "/static/", "/openapi.json"))
    app.add_middleware(CrossOriginGuard)
    app.add_middleware(
        BodyLimit,
        limit=chosen.max_request_bytes,
        upload_limit=chosen.max_upload_bytes,
        upload_paths=(api.UPLOAD_PATH, pages.UPLOAD_PATH),
    )
    app.add_middleware(
        RateLimit,
        per_minute=chosen.rate_limit_per_minute,
        burst=chosen.rate_limit_burst,
        exempt_prefixes=("/static/", "/api/health"),
    )
    app.add_middleware(HostGuard, allowed_hosts=chosen.allowed_hosts)
    app.add_middleware(SecurityHeaders)
    return app
