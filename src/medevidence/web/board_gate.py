"""The review board for the web app, and who is asking: a session cookie for pages, a token for the API.

The board gets a :class:`~medevidence.Library` (so a SQLite connection) of its own instead of
taking turns through :class:`~.gate.LibraryGate`: :class:`~medevidence.review.Board` serialises
its own use of its connection, and SQLite serialises it against the others. Votes and sign-ins
therefore never wait for an answer being composed, and every write is still one ``BEGIN
IMMEDIATE`` transaction with its audit entry.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import anyio.to_thread
from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import Request

from .. import Library
from ..accounts import User
from ..review import Board
from .errors import WebError
from .sessions import SESSION_COOKIE, LoginThrottle, SessionStore

T = TypeVar("T")

TOKEN_HINT = (
    "send an API token as 'Authorization: Bearer <token>'; an admin issues one with `medevidence users token NAME`"
)


class BoardGate:
    def __init__(self, directory: Path) -> None:
        self._library = Library.open(directory)
        self.board = Board(self._library)
        self.sessions = SessionStore(directory)
        self.throttle = LoginThrottle()

    async def run(self, work: Callable[[Board], T]) -> T:
        """``work(board)`` in a worker thread (password hashing and SQLite calls block)."""
        return await anyio.to_thread.run_sync(work, self.board)

    def session_user(self, board: Board, secret: str) -> User | None:
        """The enabled account a session cookie belongs to; a disabled account's session is ended."""
        name = self.sessions.user_name(secret)
        if name is None:
            return None
        user = board.user(name)
        if user.disabled:
            self.sessions.end(secret)
            return None
        return user

    def close(self) -> None:
        self.sessions.close()
        self._library.close()


def board_gate(request: Request) -> BoardGate:
    gate: BoardGate = request.app.state.board
    return gate


async def load_member(request: Request) -> None:
    """Dependency of the page routers: ``request.state.member`` is the signed-in account, or None."""
    secret = request.cookies.get(SESSION_COOKIE)
    member: User | None = None
    if secret:
        gate = board_gate(request)
        member = await gate.run(lambda board: gate.session_user(board, secret))
    request.state.member = member


# Declared through FastAPI's scheme so /openapi.json says the board API takes a bearer token.
bearer_token = HTTPBearer(auto_error=False, description="An API token from `medevidence users token NAME`.")


async def api_user(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_token)]
) -> User:
    """Dependency of the board API: the account whose token the request carries."""
    if credentials is None or not credentials.credentials.strip():
        raise WebError(
            401, f"this endpoint is for review-board members; {TOKEN_HINT}", headers={"WWW-Authenticate": "Bearer"}
        )
    secret = credentials.credentials
    return await board_gate(request).run(lambda board: board.authenticate_token(secret))
