"""The app's one :class:`~medevidence.Library`, used by one request at a time, off the event loop.

A library holds one SQLite connection and a search index that refreshes itself in place; neither
may be used by two threads at once. Requests therefore take turns, each in a worker thread so the
event loop keeps serving static files and refusing bad requests while an answer is composed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread

from .. import Library

T = TypeVar("T")


class LibraryGate:
    def __init__(self, library: Library) -> None:
        self._library = library
        self._lock = threading.Lock()

    async def run(self, work: Callable[[Library], T]) -> T:
        """``work(library)`` in a worker thread, once no other request is using the library."""

        def locked() -> T:
            with self._lock:
                return work(self._library)

        return await anyio.to_thread.run_sync(locked)

    def close(self) -> None:
        with self._lock:
            self._library.close()
