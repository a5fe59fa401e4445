"""Plain text and Markdown: title from the first heading or line, trailing reference list split off."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from ..errors import EmptySource, UnreadableSource
from ..models import ParsedDocument, Section, SourceFormat
from .normalize import normalize_text, split_reference_list

# Share of control characters above which bytes are binary, not text with a stray byte.
_BINARY_CONTROL_SHARE = 0.05
_CONTROL_BYTES = bytes([*range(0, 9), 11, 12, *range(14, 32)])


def decode_text(data: bytes, source: str) -> tuple[str, str]:
    """Decode file bytes as UTF-8 (BOM or not) or UTF-16 (with a BOM), else Windows-1252.

    Returns ``(text, encoding)``. Raises :class:`UnreadableSource` for binary content, which
    no encoding would turn into something worth storing.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise UnreadableSource(
                source, "the file starts like UTF-16 but is not valid UTF-16", "save it as UTF-8"
            ) from exc
    sample = data[:65536]
    # translate() deleting every control byte counts them in C, not one Python step per byte.
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if b"\x00" in sample or (sample and controls / len(sample) > _BINARY_CONTROL_SHARE):
        raise UnreadableSource(
            source,
            "the file is binary, not text",
            "export it as plain text, PDF, HTML or MEDLINE XML, or give it the right extension",
        )
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        # Windows-1252 maps nearly every byte, so legacy exports still ingest; the guess is
        # recorded on the document so a user can see it.
        return data.decode("cp1252", errors="replace"), "cp1252 (not valid UTF-8; guessed)"


def load_text(path: Path) -> tuple[str, str]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableSource(
            str(path), f"the file could not be read ({exc.strerror})", "check the path and permissions"
        ) from exc
    if not data.strip():
        raise EmptySource(str(path))
    return decode_text(data, str(path))


def read_text(path: Path) -> Iterator[ParsedDocument]:
    raw, encoding = load_text(path)
    text = normalize_text(raw)
    if not text:
        raise EmptySource(str(path))
    body, references = split_reference_list(text)
    document = ParsedDocument(
        text=body,
        source_format=SourceFormat.TEXT,
        title=_shorten(guess_title(body, path)),
        references=references,
    )
    if encoding != "utf-8":
        document.extra["encoding"] = encoding
    yield document


_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_SETEXT = re.compile(r"^(.+)\n(=+|-+)[ \t]*$", re.MULTILINE)
_INLINE_MARKUP = [
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # images keep their alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links keep their words
    (re.compile(r"(\*\*|__)(.+?)\1"), r"\2"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"), r"\1"),
    (re.compile(r"`([^`]+)`"), r"\1"),
    (re.compile(r"^>\s?", re.MULTILINE), ""),
    (re.compile(r"^[ \t]*([-*+])[ \t]+", re.MULTILINE), "- "),
    (re.compile(r"^[ \t]*(?:-{3,}|\*{3,}|_{3,})[ \t]*$", re.MULTILINE), ""),
    (re.compile(r"<!--.*?-->", re.DOTALL), ""),
]


def read_markdown(path: Path) -> Iterator[ParsedDocument]:
    """Markdown with its markup removed; headings become section labels.

    The stored text keeps heading lines as plain lines (without ``#``) so that a section's
    offsets cover its heading and the text reads naturally when quoted.
    """
    raw, encoding = load_text(path)
    text = normalize_text(_SETEXT.sub(lambda m: f"# {m.group(1)}" if m.group(2)[0] == "=" else f"## {m.group(1)}", raw))
    headings: list[tuple[int, str]] = []
    plain_lines: list[str] = []
    for line in text.split("\n"):
        heading = _HEADING.match(line)
        if heading:
            title = _strip_inline(heading.group(2))
            headings.append((sum(len(x) + 1 for x in plain_lines), title))
            plain_lines.append(title)
        else:
            plain_lines.append(_strip_inline(line))
    plain = normalize_text("\n".join(plain_lines))
    if not plain:
        raise EmptySource(str(path))
    body, references = split_reference_list(plain)
    sections = _sections_from_headings(body, [title for _, title in headings])
    title = sections[0].label if sections and sections[0].start == 0 else body.split("\n", 1)[0]
    document = ParsedDocument(
        text=body,
        source_format=SourceFormat.MARKDOWN,
        title=_shorten(title),
        sections=sections,
        references=references,
    )
    if encoding != "utf-8":
        document.extra["encoding"] = encoding
    yield document


def _strip_inline(line: str) -> str:
    for pattern, replacement in _INLINE_MARKUP:
        line = pattern.sub(replacement, line)
    return line


def _sections_from_headings(body: str, titles: list[str]) -> list[Section]:
    """Locate each heading line in the normalised body; a section runs to the next heading."""
    starts: list[tuple[int, str]] = []
    position = 0
    for title in titles:
        match = re.search(rf"^{re.escape(title.strip())}$", body[position:], re.MULTILINE)
        if match is None:
            continue
        starts.append((position + match.start(), title.strip()))
        position += match.end()
    sections = []
    for index, (start, label) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else len(body)
        sections.append(Section(label=label, start=start, end=end))
    return sections


_TITLE_WORDS = 30
_NOT_TITLE = re.compile(r"(reprint|copyright|\u00a9|www\.|https?:|all rights reserved|^image\b)", re.IGNORECASE)


def guess_title(body: str, path: Path) -> str:
    """The first line that reads like a title; the file name when none does.

    Text extracted from a PDF or a web page often starts mid-sentence or with a caption, so a
    line must start with a capital or digit, be short, and not run on as a sentence.
    """
    for line in body.split("\n")[:40]:
        words = line.split()
        if not 2 <= len(words) <= _TITLE_WORDS or not (line[0].isupper() or line[0].isdigit()):
            continue
        if (line.endswith((".", ",", ";", ":")) and len(words) > 12) or _NOT_TITLE.search(line):
            continue
        return line.strip()
    return path.stem.replace("_", " ")


def _shorten(title: str, limit: int = 300) -> str:
    title = title.strip()
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "\u2026"
