"""Schema of the SQLite library, as a ladder of named migrations.

``PRAGMA user_version`` holds how many steps a database has taken; each step runs in its own
transaction and is recorded in ``_migrations`` with the time it ran. A database made by a
newer medevidence (more steps than this list) is refused rather than written to.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from .errors import StoreError

M001_DOCUMENTS = """
CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL);

-- One row per stored *version* of a document. Old versions keep their text and passages
-- because published answers cite character offsets into them.
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,               -- what users see: PMID, else JSONL id, else first version's id
    lineage TEXT NOT NULL,           -- identity across versions: pmid:, doi:, id:, file: or hash:
    version INTEGER NOT NULL,
    is_current INTEGER NOT NULL CHECK (is_current IN (0, 1)),
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    source_format TEXT NOT NULL,
    source_path TEXT,
    authors TEXT NOT NULL,           -- JSON list
    year INTEGER,
    journal TEXT,
    pmid TEXT,
    doi TEXT,
    url TEXT,
    publication_types TEXT NOT NULL, -- JSON list
    mesh_terms TEXT NOT NULL,        -- JSON list
    external_id TEXT,
    reference_list TEXT NOT NULL,    -- JSON list of the document's own references
    sections TEXT NOT NULL,          -- JSON list of [label, start, end]
    pages TEXT NOT NULL,             -- JSON list of [number, start, end]
    study_design TEXT NOT NULL,
    evidence_level TEXT NOT NULL,
    design_reason TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    ingested_at TEXT NOT NULL,
    extra TEXT NOT NULL,             -- JSON object: fields a source had that we do not model
    UNIQUE (lineage, version)
);
CREATE INDEX documents_current_lineage ON documents (lineage) WHERE is_current = 1;
CREATE INDEX documents_current_pmid ON documents (pmid) WHERE is_current = 1 AND pmid IS NOT NULL;
CREATE INDEX documents_current_doi ON documents (lower(doi)) WHERE is_current = 1;
CREATE INDEX documents_current_hash ON documents (content_hash) WHERE is_current = 1;
CREATE INDEX documents_key ON documents (key);

CREATE TABLE passages (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    section TEXT,
    page INTEGER,
    text TEXT NOT NULL,
    UNIQUE (document_id, ordinal)
);

-- Files whose every record is stored: an unchanged file is skipped without re-reading it,
-- which also makes an interrupted directory ingest resumable.
CREATE TABLE source_files (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    completed_at TEXT NOT NULL
);
"""

# Abbreviations a document defines itself ("invasive ductal carcinoma (IDC)"), so queries can
# be expanded with the meanings this library's own literature uses.
M002_ABBREVIATIONS = """
CREATE TABLE abbreviations (
    document_id INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    short_form TEXT NOT NULL,
    long_form TEXT NOT NULL,
    PRIMARY KEY (short_form, long_form, document_id)
) WITHOUT ROWID;
"""

# Every composed answer, so follow-ups can find their context and the review board its drafts.
M003_ANSWERS = """
CREATE TABLE answers (
    id TEXT PRIMARY KEY,
    question TEXT NOT NULL,
    audience TEXT NOT NULL,
    follow_up_of TEXT REFERENCES answers (id),
    created_at TEXT NOT NULL,
    body TEXT NOT NULL              -- the answer JSON (CONTRACT.md)
);
CREATE INDEX answers_follow_up_of ON answers (follow_up_of);
"""

# The review board: accounts, articles with immutable versions, votes, and a hash-chained audit log.
# Versions, votes and audit entries are only ever inserted; the triggers refuse anything else, so
# a bug cannot rewrite history (someone editing the file directly is caught by `audit verify`).
M004_REVIEW_BOARD = """
CREATE TABLE board_users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'reviewer')),
    specialty TEXT,
    password_hash TEXT,              -- argon2id; NULL for accounts that act only through API tokens
    disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at TEXT NOT NULL
);

CREATE TABLE board_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES board_users (id),
    token_hash TEXT NOT NULL UNIQUE, -- sha256 of the token, which is shown once and never stored
    prefix TEXT NOT NULL,            -- the token's first characters, to tell tokens apart in listings
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

-- No foreign key to answers: answers may be re-saved (INSERT OR REPLACE), and every version
-- keeps its own full copy of the answer anyway.
CREATE TABLE articles (
    id INTEGER PRIMARY KEY,
    answer_id TEXT NOT NULL UNIQUE,
    question TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN
        ('submitted', 'under_review', 'changes_requested', 'approved', 'rejected', 'published')),
    current_version INTEGER NOT NULL,
    published_version INTEGER,       -- stays readable while a reopened article is reviewed again
    created_by INTEGER NOT NULL REFERENCES board_users (id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX articles_status ON articles (status);

CREATE TABLE article_versions (
    article_id INTEGER NOT NULL REFERENCES articles (id),
    number INTEGER NOT NULL,
    author_id INTEGER NOT NULL REFERENCES board_users (id),
    created_at TEXT NOT NULL,
    note TEXT NOT NULL,              -- why the version exists: submitted, revised, reopened
    body TEXT NOT NULL,              -- the full answer JSON of this version (CONTRACT.md)
    diff TEXT NOT NULL,              -- unified diff of the rendered statements against the previous version
    flags TEXT NOT NULL,             -- JSON list: statements the cited spans do not support, with why
    comments TEXT NOT NULL,          -- JSON list: editors' comments on statements, for the reviewers
    PRIMARY KEY (article_id, number)
);

CREATE TABLE article_reviewers (
    article_id INTEGER NOT NULL REFERENCES articles (id),
    user_id INTEGER NOT NULL REFERENCES board_users (id),
    assigned_by INTEGER NOT NULL REFERENCES board_users (id),
    assigned_at TEXT NOT NULL,
    PRIMARY KEY (article_id, user_id)
);

-- A reviewer may vote again on the same version; their latest vote on it is the one that counts.
CREATE TABLE votes (
    id INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL,
    version INTEGER NOT NULL,
    reviewer_id INTEGER NOT NULL REFERENCES board_users (id),
    decision TEXT NOT NULL CHECK (decision IN ('approve', 'request_changes', 'reject')),
    comment TEXT NOT NULL,
    cast_at TEXT NOT NULL,
    FOREIGN KEY (article_id, version) REFERENCES article_versions (article_id, number)
);
CREATE INDEX votes_article_version ON votes (article_id, version, reviewer_id);

-- seq counts from 1 without gaps, so a deleted entry shows as a gap; hash = sha256(prev_hash +
-- canonical JSON of the entry), so a changed entry no longer matches its hash.
CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor_id INTEGER,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    article_id INTEGER,
    from_version INTEGER,
    to_version INTEGER,
    from_status TEXT,
    to_status TEXT,
    details TEXT NOT NULL,           -- JSON object
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_article ON audit_log (article_id);

-- Board-wide state: the audit head (seq and hash of the newest entry, written in the same
-- transaction as the entry, so cutting entries off the end is detected) and the review quorum.
CREATE TABLE board_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TRIGGER article_versions_immutable BEFORE UPDATE ON article_versions
BEGIN SELECT RAISE(ABORT, 'article versions are immutable; save a new version instead'); END;
CREATE TRIGGER article_versions_kept BEFORE DELETE ON article_versions
BEGIN SELECT RAISE(ABORT, 'article versions are kept for the audit trail'); END;
CREATE TRIGGER votes_immutable BEFORE UPDATE ON votes
BEGIN SELECT RAISE(ABORT, 'votes are immutable; cast a new vote instead'); END;
CREATE TRIGGER votes_kept BEFORE DELETE ON votes
BEGIN SELECT RAISE(ABORT, 'votes are kept for the audit trail'); END;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_kept BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""

# Sign-in sessions of the web pages. The cookie holds a random id; only its sha256 is stored, so a
# copy of the database does not let anyone act as a signed-in board member.
M005_WEB_SESSIONS = """
CREATE TABLE web_sessions (
    id_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES board_users (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);
"""

MIGRATIONS: list[tuple[str, str]] = [
    ("m001_documents", M001_DOCUMENTS),
    ("m002_abbreviations", M002_ABBREVIATIONS),
    ("m003_answers", M003_ANSWERS),
    ("m004_review_board", M004_REVIEW_BOARD),
    ("m005_web_sessions", M005_WEB_SESSIONS),
]


def migrate(connection: sqlite3.Connection) -> list[str]:
    """Apply the steps this database has not taken yet; return their names."""
    (current,) = connection.execute("PRAGMA user_version").fetchone()
    if current > len(MIGRATIONS):
        raise StoreError(
            f"this library was written by a newer medevidence (schema step {current}, this version knows "
            f"{len(MIGRATIONS)}); upgrade medevidence to open it"
        )
    applied = []
    for step, (name, sql) in enumerate(MIGRATIONS[current:], start=current + 1):
        connection.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(sql):
                connection.execute(statement)
            connection.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                (name, datetime.now(UTC).isoformat(timespec="seconds")),
            )
            connection.execute(f"PRAGMA user_version = {step}")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        applied.append(name)
    return applied


def _statements(sql: str) -> list[str]:
    """Split a migration into statements (executescript would commit the open transaction)."""
    statements, buffer = [], ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements
