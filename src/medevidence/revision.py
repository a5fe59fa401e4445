"""Article versions: the edits an editor makes, how a version reads, its diff and its re-check.

Statements are numbered from 1 in the order of ``Answer.statements()`` (bottom line, sections,
then each conflict's summary, explanation, limitations and sides); every edit names a statement by
that number in the version being revised. A revision may replace a statement's text, remove a
statement, or attach a note for the reviewers; every statement of the result is checked again
against the spans it cites (``verify.check_statement``, with the composer's allowed words), and
the ones that fail become :class:`Flag` records saved with the version.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .compose import COMPOSER_WORDS
from .errors import InvalidEdit
from .models import Answer, Audience, Statement
from .plain import plain_words
from .verify import check_statement


@dataclass(frozen=True)
class Flag:
    """A statement of a version that its cited spans do not support."""

    statement: int  # 1-based, in the order of Answer.statements()
    text: str
    reason: str


@dataclass(frozen=True)
class StatementComment:
    statement: int  # 1-based, in the version the comment was saved with
    text: str
    author: str
    created_at: str


@dataclass(frozen=True)
class EditText:
    """Replace the text of statement ``statement`` (1-based) of the version being revised."""

    statement: int
    text: str


@dataclass(frozen=True)
class RemoveStatement:
    statement: int


@dataclass(frozen=True)
class AddComment:
    """A note for the reviewers on one statement; it is saved with the new version."""

    statement: int
    text: str


Edit = EditText | RemoveStatement | AddComment


@dataclass
class _Slot:
    heading: str
    statement: Statement
    container: list[Statement] | None  # None: a conflict's summary or explanation, which cannot go


def _slots(answer: Answer) -> list[_Slot]:
    """Every statement with where it sits, in the order of ``Answer.statements()``."""
    slots = [_Slot("Bottom line", s, answer.bottom_line) for s in answer.bottom_line]
    for section in answer.sections:
        slots += [_Slot(section.title, s, section.statements) for s in section.statements]
    for conflict in answer.conflicts:
        heading = f"Conflict: {conflict.topic}"
        slots += [_Slot(heading, conflict.summary, None), _Slot(heading, conflict.explanation, None)]
        slots += [_Slot(f"{heading} (limitations)", s, conflict.limitations) for s in conflict.limitations]
        for side in conflict.sides:
            slots += [_Slot(f"{heading} ({side.stance})", s, side.statements) for s in side.statements]
    return slots


def rendered_statements(answer: Answer, numbered: bool = False) -> list[str]:
    """One line per statement under its heading: what diffs compare and reviewers read."""
    lines: list[str] = []
    heading = None
    for number, slot in enumerate(_slots(answer), start=1):
        if slot.heading != heading:
            heading = slot.heading
            lines.append(f"## {heading}")
        marks = ",".join(str(n) for n in slot.statement.citations)
        prefix = f"#{number} " if numbered else ""
        lines.append(f"{prefix}{slot.statement.text} [{marks}]")
    return lines


def unified_diff(old: Answer | None, new: Answer, old_label: str, new_label: str) -> str:
    before = rendered_statements(old) if old is not None else []
    return "\n".join(difflib.unified_diff(before, rendered_statements(new), old_label, new_label, lineterm=""))


def unsupported(answer: Answer) -> list[Flag]:
    """Statements the cited spans do not support, by the composer's own check and allowed words."""
    allowed = [*COMPOSER_WORDS, *(plain_words() if answer.audience is Audience.PATIENT else ())]
    flags = []
    for number, statement in enumerate(answer.statements(), start=1):
        support = check_statement(statement, answer.references, allowed)
        if not support.supported:
            flags.append(Flag(number, statement.text, support.reason))
    return flags


def apply_edits(
    article_id: int, answer: Answer, edits: Sequence[Edit], author: str
) -> tuple[list[dict[str, Any]], list[StatementComment]]:
    """Apply ``edits`` to ``answer`` in place, all numbered against it as it was before any of them.

    Returns what the audit entry records (in that numbering) and the comments to save with the new
    version (in the new version's numbering, since removals move later statements up).
    """
    if not edits:
        raise InvalidEdit(f"no edits for article {article_id}; edit a statement's text, remove one, or comment")
    slots = _slots(answer)
    for edit in edits:
        if not 1 <= edit.statement <= len(slots):
            raise InvalidEdit(
                f"article {article_id} has no statement #{edit.statement}; its statements are numbered 1 to "
                f"{len(slots)} (`medevidence articles show {article_id}` lists them)"
            )
        if isinstance(edit, EditText | AddComment) and not edit.text.strip():
            raise InvalidEdit(
                f"the text for statement #{edit.statement} of article {article_id} is empty; give the text"
                + (", or remove the statement" if isinstance(edit, EditText) else "")
            )
        if isinstance(edit, EditText) and edit.text.strip() == slots[edit.statement - 1].statement.text:
            raise InvalidEdit(
                f"statement #{edit.statement} of article {article_id} already reads that; a new version must change "
                "something, because it starts the review votes again"
            )
        if isinstance(edit, RemoveStatement) and slots[edit.statement - 1].container is None:
            raise InvalidEdit(
                f"statement #{edit.statement} of article {article_id} is a conflict's summary or explanation, "
                "which the conflict needs; edit its text instead"
            )
    changes = Counter(e.statement for e in edits if not isinstance(e, AddComment))
    if twice := sorted(n for n, count in changes.items() if count > 1):
        raise InvalidEdit(
            f"statement #{twice[0]} of article {article_id} is changed twice in one revision; give one change per "
            "statement (comments may go with it)"
        )
    removed = sorted({e.statement for e in edits if isinstance(e, RemoveStatement)})
    commented = {e.statement for e in edits if isinstance(e, AddComment)}
    if gone := sorted(commented & set(removed)):
        raise InvalidEdit(
            f"statement #{gone[0]} of article {article_id} is both removed and commented on; comment or remove it"
        )
    record: list[dict[str, Any]] = []
    comments: list[StatementComment] = []
    now = _now()
    for edit in edits:
        slot = slots[edit.statement - 1]
        if isinstance(edit, EditText):
            new_text = edit.text.strip()
            record.append({"edit": "text", "statement": edit.statement, "from": slot.statement.text, "to": new_text})
            slot.statement.text = new_text
        elif isinstance(edit, RemoveStatement):
            record.append({"edit": "remove", "statement": edit.statement, "text": slot.statement.text})
        else:
            # Statements after removed ones move up; the comment follows its statement.
            renumbered = edit.statement - sum(1 for r in removed if r < edit.statement)
            record.append({"edit": "comment", "statement": edit.statement, "text": edit.text.strip()})
            comments.append(StatementComment(renumbered, edit.text.strip(), author, now))
    for number in reversed(removed):
        slot = slots[number - 1]
        assert slot.container is not None
        position = next(i for i, s in enumerate(slot.container) if s is slot.statement)
        del slot.container[position]
    answer.sections = [section for section in answer.sections if section.statements]
    return record, comments


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
