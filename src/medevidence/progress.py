"""Progress bars for long work, drawn with rich on standard error."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:
    from .library import IngestProgress


@contextmanager
def ingest_progress_bar(files_total: int) -> Iterator[Callable[[IngestProgress], None]]:
    """A callback for ``Library.ingest`` that shows files done, records read and the current file."""
    console = Console(stderr=True)
    columns = (
        TextColumn("[bold]ingest[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("files · {task.fields[records]:,} records · {task.fields[current]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False, disable=not console.is_terminal) as progress:
        task = progress.add_task("ingest", total=files_total, records=0, current="")

        def update(event: IngestProgress) -> None:
            progress.update(task, completed=event.files_done, records=event.records, current=event.current)

        yield update


def say_waiting_for_another_ingest() -> None:
    """Why an ingest has not started: another process is ingesting into the same library."""
    Console(stderr=True).print(
        "[yellow]waiting[/]: another process is ingesting into this library; this ingest starts when it ends"
    )
