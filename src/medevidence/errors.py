"""Every error medevidence raises on purpose. Each message names the problem, the input and the fix.

MedevidenceError
├── IngestError                 one source could not be read; nothing stored for it
│   ├── UnsupportedFormat       neither extension nor content matches a reader
│   ├── EmptySource             no text at all
│   ├── SourceTooLarge          over the configured size limit
│   ├── UnreadableSource        corrupt, truncated, encrypted, binary or scanned input
│   └── BadRecord               one line/record of a multi-record file (JSONL, MEDLINE)
├── StoreError                  the library database cannot be opened or written
│   └── DocumentNotFound        no document with that id
├── ConfigError                 an unknown setting or a value of the wrong type
├── QueryError                  a search query that cannot be used
└── BoardError                  the review board refused a sign-in or an action; nothing was changed
    ├── AuthenticationFailed    unknown name, wrong password, or an unknown or revoked token
    ├── AccountDisabled         a disabled account tried to sign in or act
    ├── InvalidAccount          a bad name, role or password, a taken name, or the last admin
    ├── UserNotFound            no account with that name
    ├── NotPermitted            the acting account's role may not take this action
    │   └── SelfReview          an author of an article tried to review it
    ├── ArticleNotFound         no article (or no version of it) with that number
    ├── DuplicateArticle        the answer is already an article
    ├── TransitionNotAllowed    the article's status does not allow the action
    ├── StaleVersion            a vote or revision named a version that is no longer current
    ├── FlaggedVersion          approval of a version with statements its cited spans do not support
    └── InvalidEdit             an edit names no statement, repeats one, or would empty one
"""

from __future__ import annotations


class MedevidenceError(Exception):
    """Base class: ``str(error)`` is a complete message for a person."""


class IngestError(MedevidenceError):
    def __init__(self, source: str, problem: str, fix: str) -> None:
        self.source = source
        self.problem = problem
        self.fix = fix
        super().__init__(f"cannot read {source}: {problem}; {fix}")


class UnsupportedFormat(IngestError):
    pass


class EmptySource(IngestError):
    def __init__(self, source: str) -> None:
        super().__init__(source, "the file contains no text", "check that it is the file you meant")


class SourceTooLarge(IngestError):
    def __init__(self, source: str, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(
            source,
            f"the file is {size / 1e6:.0f} MB, over the {limit / 1e6:.0f} MB limit",
            "split it into smaller files, or raise the limit with --max-file-mb (setting max_file_mb)",
        )


class UnreadableSource(IngestError):
    pass


class BadRecord(IngestError):
    """One record failed; the file's other records are still ingested."""

    def __init__(self, source: str, location: str, problem: str, fix: str) -> None:
        self.location = location
        super().__init__(f"{source} {location}", problem, fix)


class StoreError(MedevidenceError):
    pass


class DocumentNotFound(StoreError):
    def __init__(self, document_id: str) -> None:
        self.document_id = document_id
        super().__init__(
            f"no document {document_id!r} in this library; `medevidence library list` shows the stored ids"
        )


class AnswerNotFound(StoreError):
    def __init__(self, answer_id: str) -> None:
        self.answer_id = answer_id
        super().__init__(
            f"no answer {answer_id!r} in this library; answer ids are printed with each answer "
            '(`medevidence ask ... --format json` shows "id")'
        )


class ConfigError(MedevidenceError):
    pass


class QueryError(MedevidenceError):
    pass


class BoardError(MedevidenceError):
    pass


class AuthenticationFailed(BoardError):
    @classmethod
    def password(cls, name: str) -> AuthenticationFailed:
        # One message for an unknown name and a wrong password, so the error does not reveal which names exist.
        return cls(
            f"cannot sign in as {name!r}: unknown name or wrong password; check both, or ask an admin to set a "
            f"new password (`medevidence users passwd {name}`)"
        )

    @classmethod
    def token(cls) -> AuthenticationFailed:
        return cls(
            "the API token is unknown or has been revoked; ask an admin for a new one "
            "(`medevidence users token NAME`) and set it in MEDEVIDENCE_TOKEN"
        )


class AccountDisabled(BoardError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"the account {name!r} is disabled, so it can neither sign in nor act; an admin can re-enable it "
            f"with `medevidence users enable {name}`"
        )


class InvalidAccount(BoardError):
    pass


class UserNotFound(BoardError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"no account named {name!r}; `medevidence users list` shows the accounts")


class NotPermitted(BoardError):
    pass


class SelfReview(NotPermitted):
    def __init__(self, name: str, article_id: int, action: str) -> None:
        self.name = name
        self.article_id = article_id
        super().__init__(
            f"{name} cannot {action} article {article_id}: {name} submitted or revised it, and nobody may review "
            "their own article; assign another reviewer"
        )


class ArticleNotFound(BoardError):
    def __init__(self, article_id: int, version: int | None = None) -> None:
        self.article_id = article_id
        self.version = version
        what = f"article {article_id}" if version is None else f"version {version} of article {article_id}"
        super().__init__(
            f"there is no {what}; `medevidence articles list` shows the articles and "
            f"`medevidence articles show ID` their versions"
        )


class DuplicateArticle(BoardError):
    def __init__(self, answer_id: str, article_id: int, status: str) -> None:
        self.answer_id = answer_id
        self.article_id = article_id
        super().__init__(
            f"answer {answer_id!r} is already article {article_id} (status {status}); revise that article "
            f"instead (`medevidence articles show {article_id}`)"
        )


class TransitionNotAllowed(BoardError):
    def __init__(self, article_id: int, status: str, action: str, detail: str) -> None:
        self.article_id = article_id
        self.status = status
        self.action = action
        super().__init__(f"cannot {action} article {article_id} while it is {status}: {detail}")


class StaleVersion(BoardError):
    def __init__(self, article_id: int, action: str, named: int, current: int) -> None:
        self.article_id = article_id
        self.named = named
        self.current = current
        super().__init__(
            f"cannot {action} version {named} of article {article_id}: version {current} is now current, and only "
            f"the current version can be voted on or revised; read it (`medevidence articles show {article_id}`) "
            f"and try again with version {current}"
        )


class FlaggedVersion(BoardError):
    def __init__(self, article_id: int, version: int, statements: list[int]) -> None:
        self.article_id = article_id
        self.version = version
        self.statements = statements
        numbers = ", ".join(f"#{n}" for n in statements)
        which = f"statement {numbers} is" if len(statements) == 1 else f"statements {numbers} are"
        super().__init__(
            f"cannot approve version {version} of article {article_id}: {which} not supported by the spans "
            "cited; request changes instead, so an editor can fix or remove them in a new version"
        )


class InvalidEdit(BoardError):
    pass
