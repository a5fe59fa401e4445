"""An :class:`~medevidence.models.Answer` as Markdown, a standalone HTML page, terminal text or JSON.

Renderers only show what the composer decided: section titles, the disclaimer and the wording
for patients all come in the answer. What they add is presentation: numbered citations that
lead to the reference list, the exact source text behind each statement, the review status and
the badges of study design and evidence level.

HTML goes through a Jinja2 template with autoescaping on, so every string from an answer
(titles, statements, quotes from sources, which can hold ``<script>``) is escaped unless the
template says otherwise, and it never does. Markdown escapes its own control characters and
collapses line breaks, so a source cannot inject headings, links or raw HTML. Terminal text is
built from rich ``Text`` objects, which do not interpret markup.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from urllib.parse import quote, urlsplit

import jinja2
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from .models import Answer, Audience, EvidenceLevel, Reference, ReviewStatus, Statement, StatementKind

__all__ = ["RENDERERS", "render_html", "render_json", "render_markdown", "render_text"]

PUBMED_URL = "https://pubmed.ncbi.nlm.nih.gov/{pmid}/"
DOI_URL = "https://doi.org/{doi}"

# The headings the renderer owns; the composer names the answer's own sections.
BOTTOM_LINE = "Bottom line"
CONFLICTS = "Where the evidence disagrees"
EVIDENCE = "Evidence summary"
GAPS = "What your library does not cover"
REFERENCES = "References"
FOLLOW_UP = "Have a follow-up question?"
DISCLAIMER = {Audience.CLINICIAN: "Professional medical disclaimer", Audience.PATIENT: "Medical disclaimer"}
AUDIENCE = {Audience.CLINICIAN: "For health professionals", Audience.PATIENT: "For patients and families"}

STATUS_LABELS = {
    ReviewStatus.DRAFT: "Draft",
    ReviewStatus.SUBMITTED: "Submitted",
    ReviewStatus.UNDER_REVIEW: "Under review",
    ReviewStatus.CHANGES_REQUESTED: "Changes requested",
    ReviewStatus.APPROVED: "Approved",
    ReviewStatus.REJECTED: "Rejected",
    ReviewStatus.PUBLISHED: "Published",
}
STATUS_NOTES = {
    ReviewStatus.DRAFT: "Not yet submitted for review. Educational purpose only: check it before relying on it.",
    ReviewStatus.SUBMITTED: "Educational purpose only: content pending human review.",
    ReviewStatus.UNDER_REVIEW: "Educational purpose only: content pending human review.",
    ReviewStatus.CHANGES_REQUESTED: "Reviewers asked for changes. Educational purpose only: pending human review.",
    ReviewStatus.APPROVED: "Checked and approved by this library's review board.",
    ReviewStatus.REJECTED: "The review board rejected this answer: do not rely on it.",
    ReviewStatus.PUBLISHED: "Approved and published by this library's review board.",
}
# The three review steps users see, and which of them each status has reached (-1: none yet).
REVIEW_STEPS = ("Submitted", "Under Review", "Approved")
_STEP_REACHED = {
    ReviewStatus.DRAFT: -1,
    ReviewStatus.SUBMITTED: 0,
    ReviewStatus.UNDER_REVIEW: 1,
    ReviewStatus.CHANGES_REQUESTED: 1,
    ReviewStatus.APPROVED: 2,
    ReviewStatus.REJECTED: 2,
    ReviewStatus.PUBLISHED: 2,
}
VERDICT_LABELS = {"yes": "yes", "no": "no", "mixed": "mixed", "insufficient": "insufficient evidence"}
VERDICT_BASIS = "weighted by evidence level"

_MAX_AUTHORS = 3


# -- what every renderer needs -------------------------------------------------------------------


def _one_line(text: str) -> str:
    """Sources carry line breaks from PDFs; an answer shows each string on one line."""
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True, slots=True)
class Quote:
    """The exact source text behind a statement's citation ``n``."""

    n: int
    text: str
    start: int | None = None
    end: int | None = None

    @property
    def where(self) -> str:
        if self.start is None or self.end is None:
            return f"Reference {self.n}"
        return f"Reference {self.n}, characters {self.start}\u2013{self.end}"


@dataclass(frozen=True, slots=True)
class Cite:
    n: int
    hover: str  # shown on hover: the cited text, else what the reference is

    @property
    def label(self) -> str:
        return f"Reference {self.n}"


@dataclass(frozen=True, slots=True)
class StatementView:
    text: str
    kind: str
    cites: tuple[Cite, ...]
    quotes: tuple[Quote, ...]


@dataclass(frozen=True, slots=True)
class ReferenceView:
    n: int
    title: str
    authors: str
    journal: str
    year: str
    design: str
    design_reason: str
    level: str
    level_class: str
    pmid: str
    pmid_url: str
    doi: str
    doi_url: str
    url: str
    doc_id: str
    passages: tuple[Quote, ...]


@dataclass(frozen=True, slots=True)
class DesignCount:
    design: str
    level: str
    citations: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Step:
    label: str
    state: str  # done | current | todo | rejected

    @property
    def current(self) -> bool:
        return self.state in ("current", "rejected")


class AnswerView:
    """The answer with the lookups every renderer needs: cited text, links, labels and counts."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.by_n = {reference.n: reference for reference in answer.references}

    # statements and citations

    def statement(self, statement: Statement) -> StatementView:
        quotes = self.quotes(statement)
        cites = tuple(self.cite(n, [q for q in quotes if q.n == n], statement) for n in statement.citations)
        return StatementView(_one_line(statement.text), statement.kind.value, cites, quotes)

    def quotes(self, statement: Statement) -> tuple[Quote, ...]:
        found: list[Quote] = []
        for span in statement.spans:
            text = self._span_text(span.n, span.start, span.end)
            if text:
                found.append(Quote(span.n, _one_line(text), span.start, span.end))
        if not found and statement.quote and statement.kind is StatementKind.SOURCE and statement.citations:
            found.append(Quote(statement.citations[0], _one_line(statement.quote)))
        return tuple(found)

    def _span_text(self, n: int, start: int, end: int) -> str:
        reference = self.by_n.get(n)
        if reference is None:
            return ""
        for passage in reference.passages:
            if passage.start <= start and end <= passage.end:
                return passage.text[start - passage.start : end - passage.start]
        return ""

    def cite(self, n: int, quotes: Iterable[Quote] = (), statement: Statement | None = None) -> Cite:
        texts = [q.text for q in quotes]
        # The quote stands in only for a statement without spans: with spans, it may be another reference's.
        if not texts and statement is not None and not statement.spans and statement.quote:
            texts = [_one_line(statement.quote)] if statement.kind is StatementKind.SOURCE else []
        return Cite(n, " \u2026 ".join(texts) if texts else self.describe(n))

    def cites(self, numbers: Iterable[int]) -> tuple[Cite, ...]:
        return tuple(self.cite(n) for n in numbers)

    def describe(self, n: int) -> str:
        reference = self.by_n.get(n)
        if reference is None:
            return f"Reference {n}"
        return f"{_one_line(reference.title)} ({_design(reference)}; {_level(reference.evidence_level)})"

    # references

    def references(self) -> list[ReferenceView]:
        return [self.reference(reference) for reference in self.answer.references]

    def reference(self, reference: Reference) -> ReferenceView:
        pmid = (reference.pmid or "").strip()
        doi = _doi(reference.doi)
        passages = tuple(Quote(reference.n, _one_line(p.text), p.start, p.end) for p in reference.passages)
        return ReferenceView(
            n=reference.n,
            title=_one_line(reference.title) or "Untitled document",
            authors=_authors(reference.authors),
            journal=_one_line(reference.journal or ""),
            year=str(reference.year) if reference.year else "",
            design=_design(reference),
            design_reason=_one_line(reference.design_reason),
            level=_level(reference.evidence_level),
            level_class="level-" + re.sub(r"\W+", "-", reference.evidence_level.value),
            pmid=pmid,
            pmid_url=PUBMED_URL.format(pmid=pmid) if pmid.isdigit() else "",
            doi=doi,
            doi_url=DOI_URL.format(doi=quote(doi, safe="/")) if doi else "",
            url=_safe_url(reference.url),
            doc_id=reference.doc_id,
            passages=passages,
        )

    def design_counts(self) -> list[DesignCount]:
        """Cited references by study design, strongest evidence first."""
        groups: dict[str, list[Reference]] = {}
        for reference in self.answer.references:
            groups.setdefault(reference.study_design.value, []).append(reference)
        ordered = sorted(groups.items(), key=lambda item: (min(r.evidence_level.rank for r in item[1]), item[0]))
        return [
            DesignCount(
                design=_capitalise(design),
                level=", ".join(dict.fromkeys(_level(r.evidence_level) for r in members)),
                citations=tuple(r.n for r in members),
            )
            for design, members in ordered
        ]

    def summary_facts(self) -> list[tuple[str, str]]:
        """The composer's evidence summary entries that read as one line each (nested ones are JSON-only)."""
        facts: list[tuple[str, str]] = []
        for key, value in self.answer.evidence_summary.items():
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                continue
            facts.append((_capitalise(str(key).replace("_", " ")), _one_line(str(value))))
        return facts

    # labels

    @property
    def title(self) -> str:
        return _one_line(self.answer.question) or "Answer"

    @property
    def resolved_question(self) -> str:
        resolved = _one_line(self.answer.resolved_question)
        return resolved if resolved and resolved != self.title else ""

    @property
    def audience(self) -> str:
        return AUDIENCE[self.answer.audience]

    @property
    def disclaimer_heading(self) -> str:
        return DISCLAIMER[self.answer.audience]

    @property
    def status(self) -> str:
        return STATUS_LABELS[self.answer.review_status]

    @property
    def status_note(self) -> str:
        return STATUS_NOTES[self.answer.review_status]

    @property
    def status_class(self) -> str:
        return "status-" + self.answer.review_status.value.replace("_", "-")

    def steps(self) -> list[Step]:
        reached = _STEP_REACHED[self.answer.review_status]
        rejected = self.answer.review_status is ReviewStatus.REJECTED
        steps: list[Step] = []
        for index, label in enumerate(REVIEW_STEPS):
            if index < reached:
                steps.append(Step(label, "done"))
            elif index == reached:
                steps.append(Step("Rejected", "rejected") if rejected else Step(label, "current"))
            else:
                steps.append(Step(label, "todo"))
        return steps

    @property
    def verdict(self) -> str:
        verdict = self.answer.verdict
        return f"Verdict: {VERDICT_LABELS.get(verdict.value, verdict.value)}" if verdict else ""

    @staticmethod
    def label(text: str) -> str:
        return _capitalise(_one_line(text))

    @staticmethod
    def stance(stance: str) -> str:
        return _capitalise(_one_line(stance).replace("_", " ")) or "Finding"

    @staticmethod
    def participants(count: int | None) -> str:
        return f"{count:,} participants" if count else ""


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _design(reference: Reference) -> str:
    return _capitalise(reference.study_design.value)


def _level(level: EvidenceLevel) -> str:
    return "Not graded" if level is EvidenceLevel.NOT_GRADED else f"Level {level.value}"


def _authors(authors: list[str]) -> str:
    names = [_one_line(a) for a in authors if a.strip()]
    if len(names) > _MAX_AUTHORS:
        return ", ".join(names[:_MAX_AUTHORS]) + ", et al."
    return ", ".join(names)


def _doi(doi: str | None) -> str:
    """A bare DOI from the forms sources use: "10.1/x", "doi:10.1/x", "https://doi.org/10.1/x"."""
    if not doi:
        return ""
    bare = re.sub(r"^(?:doi:\s*|https?://(?:dx\.)?doi\.org/)", "", doi.strip(), flags=re.IGNORECASE)
    return bare if bare.startswith("10.") else ""


def _safe_url(url: str | None) -> str:
    """Only http(s) links: a source could carry ``javascript:`` URLs, which escaping does not stop."""
    if not url:
        return ""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else ""


# -- HTML ----------------------------------------------------------------------------------------


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("medevidence", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(answer: Answer) -> str:
    """A standalone page: inline CSS, no external assets, readable without JavaScript, printable."""
    view = AnswerView(answer)
    template = _environment().get_template("answer.html")
    return template.render(
        answer=answer,
        view=view,
        headings={
            "bottom_line": BOTTOM_LINE,
            "conflicts": CONFLICTS,
            "evidence": EVIDENCE,
            "gaps": GAPS,
            "references": REFERENCES,
            "follow_up": FOLLOW_UP,
        },
        verdict_basis=VERDICT_BASIS,
    )


# -- Markdown ------------------------------------------------------------------------------------

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|!&])")


def _md(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", _one_line(text))


def _md_url(url: str) -> str:
    # Parentheses and spaces would end a Markdown link early.
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def _citation_marks(numbers: Iterable[int]) -> str:
    numbers = list(numbers)
    return f"[{','.join(str(n) for n in numbers)}]" if numbers else ""


def _md_statement(view: AnswerView, statement: Statement) -> str:
    shown = view.statement(statement)
    marks = _citation_marks(c.n for c in shown.cites)
    return f"{_md(shown.text)} {marks}".rstrip()


def render_markdown(answer: Answer) -> str:
    """Markdown with the bottom line first, ``[n]`` citations and a numbered reference list."""
    view = AnswerView(answer)
    lines: list[str] = [f"# {_md(view.title)}", ""]
    meta = [view.audience, f"Article review status: {view.status}"]
    lines += [f"*{_md(' · '.join(meta))}*", ""]
    if view.resolved_question:
        lines += [f"Answered as: {_md(view.resolved_question)}", ""]

    lines += [f"## {BOTTOM_LINE}", ""]
    for statement in answer.bottom_line:
        lines += [_md_statement(view, statement), ""]
    if view.verdict:
        lines += [f"**{_md(view.verdict)}** \u2014 {VERDICT_BASIS}", ""]

    for section in answer.sections:
        lines += [f"## {_md(section.title)}", ""]
        lines += [f"- {_md_statement(view, statement)}" for statement in section.statements]
        lines.append("")

    if answer.conflicts:
        lines += [f"## {CONFLICTS}", ""]
        for conflict in answer.conflicts:
            lines += [f"### {_md(conflict.topic)}", "", _md_statement(view, conflict.summary), ""]
            for side in conflict.sides:
                about = ", ".join(x for x in (_md(side.design), view.participants(side.participants)) if x)
                head = f"- **{_md(view.stance(side.stance))}**"
                lines.append(f"{head} ({about}) {_citation_marks(side.citations)}".rstrip())
                lines += [f"  - {_md_statement(view, statement)}" for statement in side.statements]
            lines += ["", f"**Why they differ:** {_md_statement(view, conflict.explanation)}", ""]
            if conflict.limitations:
                lines += ["**Limitations:**", ""]
                lines += [f"- {_md_statement(view, statement)}" for statement in conflict.limitations]
                lines.append("")

    counts = view.design_counts()
    facts = view.summary_facts()
    if counts or facts:
        lines += [f"## {EVIDENCE}", ""]
        for row in counts:
            lines.append(
                f"- {_md(row.design)} ({_md(row.level)}): {len(row.citations)} {_citation_marks(row.citations)}"
            )
        lines += [f"- {_md(key)}: {_md(value)}" for key, value in facts]
        lines.append("")

    if answer.gaps:
        lines += [f"## {GAPS}", ""]
        lines += [f"- {_md(gap)}" for gap in answer.gaps]
        lines.append("")

    if answer.references:
        lines += [f"## {REFERENCES}", ""]
        for ref in view.references():
            lines += _md_reference(ref)
        lines.append("")

    lines += [f"## {view.disclaimer_heading}", "", _md(answer.disclaimer), ""]
    lines += [f"*Answer {_md(answer.id)}. Ask a follow-up with `--follow-up-of {_md_code(answer.id)}`.*", ""]
    return "\n".join(lines)


def _md_code(text: str) -> str:
    return _one_line(text).replace("`", "'")


def _sentences(*parts: str) -> str:
    """Parts joined as a citation is, "Title. Authors. Journal 2015.", without doubling a full stop."""
    return " ".join(part if part.endswith((".", "?", "!")) else part + "." for part in parts if part)


def _md_reference(ref: ReferenceView) -> list[str]:
    parts = [f"**{_md(ref.title)}**"]
    if ref.authors:
        parts.append(_md(ref.authors))
    source = " ".join(x for x in (f"*{_md(ref.journal)}*" if ref.journal else "", ref.year) if x)
    if source:
        parts.append(source)
    links = []
    if ref.pmid_url:
        links.append(f"PMID [{ref.pmid}]({ref.pmid_url})")
    if ref.doi_url:
        links.append(f"DOI [{_md(ref.doi)}]({_md_url(ref.doi_url)})")
    if ref.url:
        links.append(f"[Source]({_md_url(ref.url)})")
    head = f"{ref.n}. " + _sentences(*parts)
    if links:
        head += " " + " · ".join(links)
    lines = [head, f"   *{_md(ref.design)} · {_md(ref.level)}*"]
    for passage in ref.passages:
        lines.append(f"   > {_md(passage.text)} ({_md(passage.where)})")
    return lines


# -- terminal ------------------------------------------------------------------------------------


def render_text(answer: Answer, console_width: int = 100, *, styles: bool = False) -> str:
    """The answer for a terminal, wrapped to ``console_width``.

    ``styles=True`` keeps bold and colour as ANSI codes; the CLI passes it when printing to a
    terminal, and leaves it off for pipes and files.
    """
    view = AnswerView(answer)
    console = Console(
        record=True,
        file=io.StringIO(),
        width=console_width,
        force_terminal=styles,
        color_system="standard" if styles else None,
        highlight=False,
        markup=False,
        emoji=False,
    )
    for renderable in _text_blocks(view):
        console.print(renderable)
    # rich pads table cells to the full width; trailing blanks only get in the way of a pager or diff.
    return "\n".join(line.rstrip() for line in console.export_text(styles=styles).splitlines()) + "\n"


def _heading(title: str) -> RenderableType:
    return Group(Text(""), Rule(Text(title, style="bold"), align="left", characters="\u2500", style="dim"))


def _text_statement(view: AnswerView, statement: Statement) -> Text:
    shown = view.statement(statement)
    text = Text(shown.text, style="italic" if shown.kind == StatementKind.FRAMING.value else "")
    marks = _citation_marks(c.n for c in shown.cites)
    if marks:
        text.append(" " + marks, style="cyan")
    return text


def _bullets(items: Iterable[Text], indent: int = 0) -> RenderableType:
    table = Table.grid(padding=(0, 1))
    table.add_column(width=1, no_wrap=True)
    table.add_column()
    for item in items:
        table.add_row("\u2022", item)
    return Padding(table, (0, 0, 0, indent))


def _text_blocks(view: AnswerView) -> Iterable[RenderableType]:
    answer = view.answer
    yield Text(view.title, style="bold")
    yield Text(f"{view.audience} \u00b7 Article review status: {view.status}. {view.status_note}", style="dim")
    if view.resolved_question:
        yield Text(f"Answered as: {view.resolved_question}", style="dim")

    yield _heading(BOTTOM_LINE)
    for statement in answer.bottom_line:
        yield _text_statement(view, statement)
    if view.verdict:
        verdict = Text(view.verdict, style="bold")
        verdict.append(f" \u2014 {VERDICT_BASIS}")
        yield verdict

    for section in answer.sections:
        yield _heading(_one_line(section.title))
        yield _bullets(_text_statement(view, statement) for statement in section.statements)

    if answer.conflicts:
        yield _heading(CONFLICTS)
        for conflict in answer.conflicts:
            yield Text(_one_line(conflict.topic), style="bold")
            yield _text_statement(view, conflict.summary)
            for side in conflict.sides:
                head = Text(view.stance(side.stance), style="bold")
                about = ", ".join(x for x in (_one_line(side.design), view.participants(side.participants)) if x)
                head.append(f" ({about}) {_citation_marks(side.citations)}".rstrip())
                yield Padding(head, (0, 0, 0, 2))
                yield _bullets((_text_statement(view, statement) for statement in side.statements), indent=2)
            why = Text("Why they differ: ", style="bold")
            yield why.append_text(_text_statement(view, conflict.explanation))
            if conflict.limitations:
                yield Text("Limitations:", style="bold")
                yield _bullets(_text_statement(view, statement) for statement in conflict.limitations)

    counts = view.design_counts()
    facts = view.summary_facts()
    if counts or facts:
        yield _heading(EVIDENCE)
        rows = [Text(f"{r.design} ({r.level}): {len(r.citations)} {_citation_marks(r.citations)}") for r in counts]
        rows += [Text(f"{key}: {value}") for key, value in facts]
        yield _bullets(rows)

    if answer.gaps:
        yield _heading(GAPS)
        yield _bullets(Text(_one_line(gap)) for gap in answer.gaps)

    if answer.references:
        yield _heading(REFERENCES)
        table = Table.grid(padding=(0, 1))
        table.add_column(no_wrap=True, justify="right")
        table.add_column()
        for ref in view.references():
            table.add_row(Text(f"[{ref.n}]", style="cyan"), _text_reference(ref))
        yield table

    yield _heading(view.disclaimer_heading)
    yield Text(_one_line(answer.disclaimer))
    yield Text("")
    yield Text(f"Answer {answer.id}. Ask a follow-up: medevidence ask QUESTION --follow-up-of {answer.id}", style="dim")


def _text_reference(ref: ReferenceView) -> Text:
    text = Text(_sentences(ref.title), style="bold")
    details = _sentences(ref.authors, " ".join(x for x in (ref.journal, ref.year) if x))
    if details:
        text.append(" " + details)
    links = [x for x in (f"PMID {ref.pmid}" if ref.pmid else "", f"doi:{ref.doi}" if ref.doi else "", ref.url) if x]
    if links:
        text.append("\n" + " \u00b7 ".join(links), style="dim")
    text.append(f"\n{ref.design} \u00b7 {ref.level}", style="green")
    return text


# -- JSON ----------------------------------------------------------------------------------------


def render_json(answer: Answer) -> str:
    """The contract's Answer JSON (CONTRACT.md), indented, with non-ASCII text kept readable."""
    return json.dumps(answer.to_dict(), indent=2, ensure_ascii=False)


# Format name -> renderer, for the CLI's ``--format`` choices and the web layer's content types.
RENDERERS: dict[str, Callable[[Answer], str]] = {
    "text": render_text,
    "json": render_json,
    "html": render_html,
    "md": render_markdown,
}
