"""The SQLite store: migrations, atomic writes, read-only readers."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from medevidence.errors import StoreError
from medevidence.migrations import MIGRATIONS
from medevidence.models import Classification, EvidenceLevel, ParsedDocument, SourceFormat, StudyDesign
from medevidence.store import SQLiteStore

UNKNOWN = Classification(StudyDesign.UNKNOWN, EvidenceLevel.NOT_GRADED, "test")


def test_new_library_takes_every_migration_once(tmp_path: Path) -> None:
    SQLiteStore(tmp_path).close()
    store = SQLiteStore(tmp_path)
    names = [row[0] for row in store.connection.execute("SELECT name FROM _migrations ORDER BY name")]
    assert names == [name for name, _ in MIGRATIONS]
    assert store.connection.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert store.connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.connection.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    SQLiteStore(tmp_path).close()
    with sqlite3.connect(tmp_path / "library.db") as connection:
        connection.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(StoreError, match="written by a newer medevidence .*; upgrade medevidence to open it"):
        SQLiteStore(tmp_path)


def test_a_failure_inside_a_write_rolls_back_only_that_document(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path)
    store.add_document(ParsedDocument(text="Kept.", source_format=SourceFormat.TEXT, title="kept"), UNKNOWN, [], None)
    with pytest.raises(RuntimeError), store.atomic() as db:
        db.execute("UPDATE documents SET title = 'changed'")
        raise RuntimeError("crash mid-write")
    assert [d.title for d in store.documents()] == ["kept"]


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "library.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match=r"cannot open the library database .*library.db: .*medevidence library"):
        SQLiteStore(tmp_path)


def test_read_only_readers_cannot_write(tmp_path: Path) -> None:
    SQLiteStore(tmp_path).close()
    reader = SQLiteStore(tmp_path, read_only=True)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reader.connection.execute("DELETE FROM documents")
