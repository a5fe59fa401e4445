"""One error shape for the web app, rendered as JSON for the API and as a page for people.

Every failure becomes ``{"ok": false, "error": message, "status": N}`` (plus ``errors`` for
invalid fields and ``files`` for a failed upload); pages show the same message in HTML.
Library errors are translated here, at the edge:

MedevidenceError
├── DocumentNotFound, AnswerNotFound   404
├── QueryError                         422 (its message names the fix)
├── BoardError                         the board's own message, which names the fix:
│   ├── AuthenticationFailed           401 (not signed in, bad password or token)
│   ├── AccountDisabled, NotPermitted  403 (wrong role, self-review, disabled account)
│   ├── ArticleNotFound                404
│   ├── DuplicateArticle, TransitionNotAllowed, StaleVersion, FlaggedVersion
│   │                                  409 (the article's state does not allow it)
│   └── anything else                  422 (invalid edit, account or name)
├── StoreError                         503, details only in the server log
└── anything else                      500, details only in the server log

An unexpected exception never reaches a response body: the body names an error id to look up
in the log instead.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

import jinja2
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, JSONResponse, Response

from .. import DocumentNotFound, MedevidenceError, QueryError, StoreError
from ..errors import (
    AccountDisabled,
    AnswerNotFound,
    ArticleNotFound,
    AuthenticationFailed,
    BoardError,
    DuplicateArticle,
    FlaggedVersion,
    NotPermitted,
    StaleVersion,
    TransitionNotAllowed,
)

logger = logging.getLogger("medevidence.web")

API_PREFIX = "/api"


class WebError(HTTPException):
    """A failure with a message for a person; raised by routes and middleware alike."""

    def __init__(
        self,
        status_code: int,
        message: str,
        *,
        errors: Sequence[Mapping[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(status_code, message, dict(headers) if headers else None)
        self.message = message
        self.errors = list(errors) if errors else None
        self.extra = dict(extra) if extra else {}


def invalid(field: str, location: str, message: str) -> WebError:
    """A 422 for one bad field, in the same form as a validation error."""
    return WebError(
        422, f"invalid request: {message}", errors=[{"field": field, "location": location, "message": message}]
    )


def is_api(path: str) -> bool:
    return path == API_PREFIX or path.startswith(API_PREFIX + "/") or path == "/openapi.json"


def error_body(status: int, message: str, errors: Sequence[Mapping[str, str]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": False, "error": message, "status": status}
    if errors:
        body["errors"] = list(errors)
    return body


def error_response(request: Request, error: WebError) -> Response:
    """The error as JSON under /api, else as the site's error page."""
    headers = dict(error.headers or {})
    if is_api(request.url.path):
        body = {**error_body(error.status_code, error.message, error.errors), **error.extra}
        return JSONResponse(body, status_code=error.status_code, headers=headers)
    environment: jinja2.Environment = request.app.state.jinja
    page = environment.get_template("error.html").render(
        status=error.status_code, message=error.message, errors=error.errors or []
    )
    return HTMLResponse(page, status_code=error.status_code, headers=headers)


def translate(exc: MedevidenceError) -> WebError:
    """The web error for a library error: its status, and its message where that is safe to show."""
    if isinstance(exc, DocumentNotFound):
        return WebError(404, f"no document {exc.document_id!r} in this library; GET /api/documents lists the ids")
    if isinstance(exc, AnswerNotFound):
        return WebError(404, f"no answer {exc.answer_id!r} in this library; answer ids come back from POST /api/ask")
    if isinstance(exc, QueryError):
        return WebError(422, str(exc))
    if isinstance(exc, BoardError):
        return _board_error(exc)
    if isinstance(exc, StoreError):
        return _logged(exc, 503, "the library database could not be read or written")
    return _logged(exc, 500, "the server could not complete this request")


_BOARD_CONFLICTS = (DuplicateArticle, TransitionNotAllowed, StaleVersion, FlaggedVersion)


def _board_error(exc: BoardError) -> WebError:
    if isinstance(exc, AuthenticationFailed):
        return WebError(401, str(exc), headers={"WWW-Authenticate": "Bearer"})
    if isinstance(exc, AccountDisabled | NotPermitted):
        return WebError(403, str(exc))
    if isinstance(exc, ArticleNotFound):
        what = (
            f"article {exc.article_id}" if exc.version is None else f"version {exc.version} of article {exc.article_id}"
        )
        return WebError(
            404, f"there is no {what}; GET /api/articles (or the review queue at /board) lists the articles"
        )
    if isinstance(exc, _BOARD_CONFLICTS):
        return WebError(409, str(exc))
    return WebError(422, str(exc))


def _logged(exc: BaseException, status: int, summary: str) -> WebError:
    """A generic error whose details go to the log, under an id the person can quote."""
    error_id = secrets.token_hex(4)
    logger.error("error %s: %s", error_id, summary, exc_info=exc)
    return WebError(status, f"{summary}; the server log has the details under error id {error_id}")


# FastAPI's words when it cannot parse a body at all; the message below says what each endpoint takes.
_UNPARSED_BODY = "There was an error parsing the body"


def _http_error(request: Request, exc: HTTPException) -> WebError:
    if isinstance(exc, WebError):
        return exc
    path, method, detail = request.url.path, request.method, str(exc.detail)
    if exc.status_code == 404:
        where = "the API's paths are listed in /openapi.json" if is_api(path) else "start from the ask page at /"
        return WebError(404, f"nothing at {path}; {where}", headers=exc.headers)
    if exc.status_code == 405:
        message = f"{method} is not allowed on {path}; /openapi.json lists the methods each path takes"
        return WebError(405, message, headers=exc.headers)
    if exc.status_code == 400:
        # Starlette's multipart parser names the problem ("Missing boundary", "Too many files"); keep its words.
        problem = "" if detail == _UNPARSED_BODY else f" ({detail.rstrip('.')})"
        message = (
            f"the request body could not be read{problem}; send JSON to /api/ask and multipart/form-data "
            "to /api/documents and the upload page"
        )
        return WebError(400, message, headers=exc.headers)
    # Starlette's own messages for the remaining statuses name the problem and carry no internals.
    return WebError(exc.status_code, detail, headers=exc.headers)


def _field(location: Sequence[Any]) -> tuple[str, str]:
    parts = [str(part) for part in location]
    where = parts[0] if parts else "request"
    return ".".join(parts[1:]) or where, where


def validation_error(exc: RequestValidationError) -> WebError:
    problems = list(exc.errors())
    for problem in problems:
        if problem.get("type") == "json_invalid":
            reason = problem.get("ctx", {}).get("error", "it is not valid JSON")
            return WebError(
                400,
                f"the request body is not valid JSON ({reason}); send one JSON object, "
                'e.g. {"question": "Does metformin prevent diabetes?"}',
            )
    errors = []
    for problem in problems:
        field, where = _field(problem.get("loc", ()))
        errors.append({"field": field, "location": where, "message": str(problem.get("msg", "is invalid"))})
    summary = "; ".join(f"{e['location']} {e['field']}: {e['message']}" for e in errors)
    return WebError(422, f"invalid request: {summary}", errors=errors)


def install(app: FastAPI, unexpected_headers: Mapping[str, str]) -> None:
    """Route every error through :func:`error_response`.

    Starlette answers unexpected exceptions outside every middleware, so that response gets the
    security headers here rather than from the middleware that adds them to all others.
    """

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return error_response(request, _http_error(request, exc))

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return error_response(request, validation_error(exc))

    async def on_library(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, MedevidenceError)
        return error_response(request, translate(exc))

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        response = error_response(request, _logged(exc, 500, "the server could not complete this request"))
        response.headers.update(unexpected_headers)
        return response

    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(MedevidenceError, on_library)
    app.add_exception_handler(Exception, on_unexpected)
