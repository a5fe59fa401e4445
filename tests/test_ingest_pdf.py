"""PDF reader: column order, de-hyphenation, page offsets, metadata, and every way a PDF can fail."""

from __future__ import annotations

import logging
import tracemalloc
from collections.abc import Sequence
from pathlib import Path
from random import Random

import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from medevidence.errors import EmptySource, IngestError, UnreadableSource
from medevidence.ingest.normalize import normalize_text
from medevidence.ingest.pdf import read_pdf
from medevidence.models import ParsedDocument, SourceFormat

WIDTH, HEIGHT = A4
MARGIN = 50
GUTTER = 24
COLUMN = (WIDTH - 2 * MARGIN - GUTTER) / 2
LEADING = 13

LEFT_COLUMN = [
    "Background: endocrine therapy is the",
    "standard of care for hormone receptor",
    "positive disease. Distant metas-",
    "tases were seen in few patients.",
    "LEFT-END the left column ends here.",
]
RIGHT_COLUMN = [
    "RIGHT-START the right column opens",
    "with the methods. We enrolled two",
    "hundred women in a randomised trial",
    "with a median follow-up of five years.",
    "Results were consistent across sites.",
]


def read(path: Path) -> ParsedDocument:
    documents = list(read_pdf(path))
    assert len(documents) == 1
    return documents[0]


def two_column_page(canvas: Canvas, title: str, left: Sequence[str], right: Sequence[str]) -> None:
    """A full-width title over two columns, drawn row by row across both columns.

    Drawing row by row puts the columns' lines alternately in the content stream, as some
    producers do, so a reader that follows the stream would interleave the columns.
    """
    canvas.setFont("Helvetica-Bold", 18)
    canvas.drawString(MARGIN, HEIGHT - 70, title)
    canvas.setFont("Times-Roman", 10)
    top = HEIGHT - 110
    for row in range(max(len(left), len(right))):
        if row < len(left):
            canvas.drawString(MARGIN, top - row * LEADING, left[row])
        if row < len(right):
            canvas.drawString(MARGIN + COLUMN + GUTTER, top - row * LEADING, right[row])


def single_column_page(canvas: Canvas, paragraphs: Sequence[Sequence[str]], top: float = HEIGHT - 70) -> None:
    canvas.setFont("Times-Roman", 11)
    y = top
    for paragraph in paragraphs:
        for line in paragraph:
            canvas.drawString(MARGIN, y, line)
            y -= LEADING
        y -= LEADING  # a blank line between paragraphs


def make_pdf(path: Path, *, title: str | None = None, author: str | None = None) -> Canvas:
    canvas = Canvas(str(path), pagesize=A4)
    if title is not None:
        canvas.setTitle(title)
    if author is not None:
        canvas.setAuthor(author)
    return canvas


@pytest.fixture
def article(tmp_path: Path) -> Path:
    path = tmp_path / "article.pdf"
    canvas = make_pdf(path, title="Adjuvant endocrine therapy trial", author="Jane Smith; Hans Muller")
    two_column_page(canvas, "Adjuvant endocrine therapy in early breast cancer", LEFT_COLUMN, RIGHT_COLUMN)
    canvas.showPage()
    single_column_page(canvas, [["Second page discussion: adherence fell in the second year."]])
    canvas.showPage()
    single_column_page(canvas, [["Third page conclusion: extended therapy is reasonable."], ["doi: 10.1000/ABC.123."]])
    canvas.save()
    return path


def test_two_column_page_reads_title_then_left_column_then_right_column(article: Path) -> None:
    document = read(article)

    assert document.source_format is SourceFormat.PDF
    assert document.text.startswith("Adjuvant endocrine therapy in early breast cancer\n")
    left_end = document.text.index("LEFT-END the left column ends here.")
    right_start = document.text.index("RIGHT-START the right column opens")
    assert document.text.index("Background: endocrine therapy is the") < left_end < right_start
    assert right_start < document.text.index("Results were consistent across sites.")
    assert "hundred women in a randomised trial\nwith a median" in document.text


def test_words_broken_at_line_ends_are_rejoined(article: Path) -> None:
    text = read(article).text

    assert "Distant metastases were seen" in text
    assert "metas-" not in text


def test_hyphen_of_a_compound_broken_at_a_line_end_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "compound.pdf"
    canvas = make_pdf(path)
    single_column_page(
        canvas,
        [
            ["Patients were seen at every visit during", "follow-", "up, which lasted ten years."],
            ["The first visit was a follow up by phone."],
        ],
    )
    canvas.save()

    assert "during\nfollow-up, which" in read(path).text


def test_page_spans_cover_each_page_in_order(article: Path) -> None:
    document = read(article)

    assert [page.number for page in document.pages] == [1, 2, 3]
    first, second, third = (document.text[page.start : page.end] for page in document.pages)
    assert first.startswith("Adjuvant endocrine therapy") and first.endswith("Results were consistent across sites.")
    assert second == "Second page discussion: adherence fell in the second year."
    assert third.startswith("Third page conclusion")
    assert document.pages[0].end < document.pages[1].start < document.pages[2].start
    assert document.pages[-1].end == len(document.text)


def test_text_is_in_normal_form(article: Path) -> None:
    text = read(article).text

    assert normalize_text(text) == text


def test_metadata_gives_title_and_authors_and_text_gives_the_doi(article: Path) -> None:
    document = read(article)

    assert document.title == "Adjuvant endocrine therapy trial"
    assert document.authors == ["Jane Smith", "Hans Muller"]
    assert document.doi == "10.1000/ABC.123"


@pytest.mark.parametrize("placeholder", [None, "Microsoft Word - draft_v3.docx", "untitled"])
def test_title_falls_back_to_the_largest_font_when_metadata_has_none(tmp_path: Path, placeholder: str | None) -> None:
    path = tmp_path / "untitled.pdf"
    canvas = make_pdf(path, title=placeholder)
    canvas.setFont("Helvetica", 8)
    canvas.drawString(MARGIN, HEIGHT - 40, "Journal of Breast Oncology 2021; 12: 34-56")
    canvas.setFont("Helvetica-Bold", 20)
    canvas.drawString(MARGIN, HEIGHT - 80, "Ovarian suppression in premenopausal")
    canvas.drawString(MARGIN, HEIGHT - 104, "women with early breast cancer")
    single_column_page(canvas, [["Body text follows the title and is set in a smaller font."]], top=HEIGHT - 150)
    canvas.save()

    document = read(path)

    assert document.title == "Ovarian suppression in premenopausal women with early breast cancer"
    assert document.authors == []


def test_author_written_surname_first_stays_one_name(tmp_path: Path) -> None:
    path = tmp_path / "author.pdf"
    canvas = make_pdf(path, author="Smith, Jane")
    single_column_page(canvas, [["A single paragraph of text."]])
    canvas.save()

    assert read(path).authors == ["Smith, Jane"]


def test_paragraphs_are_separated_by_a_blank_line(tmp_path: Path) -> None:
    path = tmp_path / "paragraphs.pdf"
    canvas = make_pdf(path)
    single_column_page(canvas, [["First paragraph, line one,", "and line two."], ["Second paragraph."]])
    canvas.save()

    assert read(path).text == "First paragraph, line one,\nand line two.\n\nSecond paragraph."


def test_reference_list_is_split_off_and_page_spans_stay_inside_the_body(tmp_path: Path) -> None:
    path = tmp_path / "references.pdf"
    canvas = make_pdf(path)
    single_column_page(canvas, [["Tamoxifen lowers recurrence in hormone receptor positive disease."]])
    canvas.showPage()
    single_column_page(
        canvas,
        [
            ["Aromatase inhibitors are preferred after menopause."],
            ["References"],
            [
                "1. Smith J, Jones K. Tamoxifen for early breast cancer. Lancet. 2011;378:771-84.",
                "2. Brown A, et al. Letrozole versus tamoxifen. N Engl J Med. 2005;353:2747-57.",
            ],
        ],
    )
    canvas.showPage()
    single_column_page(canvas, [["3. Green B, et al. Anastrozole in practice. J Clin Oncol. 2010;28:509-18."]])
    canvas.save()

    document = read(path)

    assert document.text.endswith("Aromatase inhibitors are preferred after menopause.")
    assert [reference[:9] for reference in document.references] == ["1. Smith ", "2. Brown ", "3. Green "]
    assert [page.number for page in document.pages] == [1, 2]
    assert document.pages[-1].end == len(document.text)


def test_seed_article_set_in_two_columns_reads_back_word_for_word(tmp_path: Path, seeds: Path) -> None:
    source = sorted(seeds.glob("*.txt"))[0].read_text(encoding="utf-8")
    # The standard PDF fonts cover Windows-1252 only, reportlab draws "•" with no Unicode
    # mapping, and a hyphen at a line end would be ambiguous: the check uses the words a
    # PDF can carry unchanged.
    carried = source.encode("cp1252", "ignore").decode("cp1252").replace("\u2022", " ")
    words = [word for word in carried.split() if "-" not in word][:1500]
    path = tmp_path / "seed.pdf"
    canvas = make_pdf(path, title="Seed article")
    lines = wrap(" ".join(words), COLUMN)
    rows = 55
    for first in range(0, len(lines), 2 * rows):
        two_column_page(canvas, "Seed article", lines[first : first + rows], lines[first + rows : first + 2 * rows])
        canvas.showPage()
    canvas.save()

    document = read(path)

    read_words = document.text.replace("Seed article", " ").split()
    assert read_words == words
    assert normalize_text(document.text) == document.text
    assert len(document.pages) == -(-len(lines) // (2 * rows))


def wrap(text: str, width: float) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if line and stringWidth(candidate, "Times-Roman", 10) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    return [*lines, line] if line else lines


def test_pdfminer_repair_warnings_are_not_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    original = tmp_path / "original.pdf"
    canvas = make_pdf(original)
    single_column_page(canvas, [["A page that lost its MediaBox."]])
    canvas.save()
    writer = PdfWriter(clone_from=PdfReader(original))
    del writer.pages[0][NameObject("/MediaBox")]
    damaged = tmp_path / "no-mediabox.pdf"
    writer.write(damaged)

    with caplog.at_level(logging.DEBUG):
        document = read(damaged)

    assert document.text == "A page that lost its MediaBox."
    assert not [record for record in caplog.records if record.name.startswith("pdfminer")]
    assert logging.getLogger("pdfminer").level == logging.NOTSET


def test_encrypted_pdf_is_refused_with_the_fix(article: Path, tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=PdfReader(article))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-256")
    path = tmp_path / "locked.pdf"
    writer.write(path)

    with pytest.raises(UnreadableSource) as error:
        read(path)

    assert str(error.value) == f"cannot read {path}: the file is encrypted; export it without a password"


def test_pdf_encrypted_only_against_editing_is_read(article: Path, tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=PdfReader(article))
    writer.encrypt(user_password="", owner_password="owner", algorithm="AES-128")
    path = tmp_path / "restricted.pdf"
    writer.write(path)

    assert "Distant metastases were seen" in read(path).text


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_truncated_pdf_is_reported_as_damaged(article: Path, tmp_path: Path, cut: float) -> None:
    data = article.read_bytes()
    path = tmp_path / "truncated.pdf"
    path.write_bytes(data[: int(len(data) * cut)])

    with pytest.raises(UnreadableSource) as error:
        read(path)

    assert str(error.value) == (
        f"cannot read {path}: the PDF is damaged or truncated; download it again or re-export it from the original"
    )
    assert error.value.__cause__ is not None


def test_garbage_after_a_pdf_header_is_reported_as_damaged(tmp_path: Path) -> None:
    path = tmp_path / "garbage.pdf"
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 8)

    with pytest.raises(UnreadableSource, match="the PDF is damaged or truncated"):
        read(path)


def test_no_corruption_lets_a_pdfminer_exception_escape(article: Path, tmp_path: Path) -> None:
    data = article.read_bytes()
    random = Random(20240501)
    path = tmp_path / "corrupt.pdf"
    for _ in range(60):
        # Flipped bytes in a whole file reach pdfminer's stream decoders, which raise bare
        # ValueErrors; a cut file fails in its parser instead.
        kept = len(data) if random.random() < 0.6 else random.randrange(len(data) // 2, len(data))
        damaged = bytearray(data[:kept])
        for _ in range(random.randrange(1, 8)):
            damaged[random.randrange(len(damaged))] = random.randrange(256)
        path.write_bytes(bytes(damaged))
        try:
            read(path)
        except IngestError as error:
            assert str(error).startswith(f"cannot read {path}: ")


def test_scanned_pdf_without_text_layer_asks_for_ocr(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    canvas = make_pdf(path)
    scan = Image.new("L", (400, 300), color=200)
    canvas.drawImage(ImageReader(scan), MARGIN, HEIGHT - 400, width=400, height=300)
    canvas.save()

    with pytest.raises(UnreadableSource) as error:
        read(path)

    assert str(error.value) == (
        f"cannot read {path}: the PDF has no text layer (scanned images); run OCR on it first, e.g. ocrmypdf"
    )


def test_scanned_page_inside_a_text_pdf_is_recorded(tmp_path: Path) -> None:
    path = tmp_path / "mixed.pdf"
    canvas = make_pdf(path)
    single_column_page(canvas, [["Typed first page."]])
    canvas.showPage()
    canvas.drawImage(ImageReader(Image.new("L", (100, 100), color=90)), MARGIN, MARGIN, width=100, height=100)
    canvas.showPage()
    single_column_page(canvas, [["Typed third page."]])
    canvas.save()

    document = read(path)

    assert document.text == "Typed first page.\n\nTyped third page."
    assert [page.number for page in document.pages] == [1, 3]
    assert document.extra["pages_without_text"] == [2]


@pytest.mark.parametrize("content", [b"", b"  \n\t"])
def test_empty_file_is_an_empty_source(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.pdf"
    path.write_bytes(content)

    with pytest.raises(EmptySource) as error:
        read(path)

    assert str(error.value) == f"cannot read {path}: the file contains no text; check that it is the file you meant"


def test_pdf_with_only_blank_pages_is_an_empty_source(tmp_path: Path) -> None:
    path = tmp_path / "blank.pdf"
    canvas = make_pdf(path)
    canvas.showPage()
    canvas.save()

    with pytest.raises(EmptySource):
        read(path)


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "absent.pdf"

    with pytest.raises(UnreadableSource) as error:
        read(path)

    assert str(error.value) == (
        f"cannot read {path}: the file could not be read (No such file or directory); check the path and permissions"
    )


def test_memory_does_not_grow_with_the_number_of_pages(tmp_path: Path) -> None:
    def peak_bytes(pages: int) -> int:
        path = tmp_path / f"{pages}-pages.pdf"
        canvas = make_pdf(path)
        for number in range(pages):
            lines = [f"Page {number} row {row}." for row in range(40)]
            two_column_page(canvas, f"Page {number}", lines, lines)
            canvas.showPage()
        canvas.save()
        tracemalloc.start()
        try:
            assert len(read(path).pages) == pages
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    assert peak_bytes(8) < 1.3 * peak_bytes(2)
