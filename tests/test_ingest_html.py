"""HTML reader: main content without page furniture, sections, metadata, charsets, hostile pages."""

from __future__ import annotations

import html
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medevidence.errors import EmptySource, UnreadableSource
from medevidence.ingest.html import read_html
from medevidence.models import ParsedDocument, SourceFormat

ARTICLE_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Extended letrozole | Journal of Oncology</title>
  <meta name="citation_title" content="Extended   adjuvant letrozole in early breast cancer">
  <meta name="citation_author" content="Smith, Jane A">
  <meta name="citation_author" content="M&uuml;ller, Hans">
  <meta name="citation_publication_date" content="2019/06/01">
  <meta name="citation_journal_title" content="Journal of Oncology">
  <meta name="citation_doi" content="10.1016/S1470-2045(19)30123-4">
  <meta name="citation_pmid" content="31234567">
  <meta name="citation_public_url" content="https://journal.example/articles/31234567">
  <meta property="og:url" content="https://journal.example/og">
  <link rel="canonical" href="https://journal.example/canonical">
  <script>window.tracker = "TRACKER-IN-HEAD";</script>
  <style>.banner { color: red } /* STYLE-RULE */</style>
</head>
<body class="article-page">
  <header class="site-header"><a href="/">Journal of Oncology</a><ul><li>SITE-MENU-ITEM</li></ul></header>
  <nav class="primary"><a href="/issues">NAV-LINK Current issue</a></nav>
  <div id="cookie-banner">COOKIE-NOTICE We use cookies. <button>Accept all</button></div>
  <div class="ad-slot">AD-COPY Buy now</div>
  <div id="CybotCookiebotDialog">COOKIEBOT-DIALOG</div>
  <main>
    <article>
      <header>
        <h1>Extended adjuvant letrozole in early breast cancer</h1>
        <p class="byline">Jane A Smith, Hans M&uuml;ller</p>
      </header>
      <div class="share-bar">SHARE-WIDGET Twitter Facebook</div>
      <h2>Background</h2>
      <p>The optimal duration of
         adjuvant <i>endocrine</i> therapy is unclear.</p>
      <h2>Methods</h2>
      <p>We randomised 1200 women.<br>Follow-up was 10 years.</p>
      <ol><li>Letrozole 2.5 mg daily</li><li>Placebo</li></ol>
      <table><tr><th>Arm</th><th>HR</th></tr><tr><td>Letrozole</td><td>0.78</td></tr></table>
      <form class="newsletter"><p>NEWSLETTER-FORM Sign up</p><input name="email"></form>
      <h2>Results</h2>
      <p>Disease-free survival improved.<script>alert(1)</script></p>
      <pre>arm   events
A     12</pre>
      <h2>References</h2>
      <ol>
        <li>Early Breast Cancer Trialists. Lancet. 2005;365:1687-717.</li>
        <li>Goss PE, et al. N Engl J Med. 2016;375:209-19.</li>
      </ol>
      <h2>Funding</h2>
      <p>Funded by a public grant.</p>
    </article>
    <section id="comments"><h3>COMMENTS-HEADING</h3><p>COMMENT-BODY Great post!</p></section>
  </main>
  <aside class="related">ASIDE-RELATED</aside>
  <iframe src="https://ads.example/frame">IFRAME-CONTENT</iframe>
  <footer>FOOTER-COPYRIGHT 2024</footer>
  <noscript>NOSCRIPT-TEXT</noscript>
  <script>document.write("SCRIPT-IN-BODY")</script>
</body>
</html>
"""


def write(tmp_path: Path, content: str | bytes, name: str = "page.html") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def read(path: Path) -> ParsedDocument:
    (document,) = list(read_html(path))
    return document


def test_article_page_keeps_the_article_and_drops_the_page_furniture(tmp_path: Path) -> None:
    document = read(write(tmp_path, ARTICLE_PAGE))

    assert document.text == (
        "Extended adjuvant letrozole in early breast cancer\n"
        "Jane A Smith, Hans Müller\n"
        "Background\n"
        "The optimal duration of adjuvant endocrine therapy is unclear.\n"
        "Methods\n"
        "We randomised 1200 women.\n"
        "Follow-up was 10 years.\n"
        "1. Letrozole 2.5 mg daily\n"
        "2. Placebo\n"
        "Arm | HR\n"
        "Letrozole | 0.78\n"
        "Results\n"
        "Disease-free survival improved.\n"
        "arm events\n"
        "A 12\n"
        "Funding\n"
        "Funded by a public grant."
    )
    for junk in (
        "TRACKER", "STYLE-RULE", "SITE-MENU", "NAV-LINK", "COOKIE", "Accept all", "AD-COPY", "SHARE-WIDGET",
        "NEWSLETTER", "alert", "COMMENT", "ASIDE", "IFRAME", "FOOTER", "NOSCRIPT", "SCRIPT-IN-BODY",
    ):  # fmt: skip
        assert junk not in document.text
    assert document.references == [
        "Early Breast Cancer Trialists. Lancet. 2005;365:1687-717.",
        "Goss PE, et al. N Engl J Med. 2016;375:209-19.",
    ]


def test_headings_become_sections_whose_offsets_cover_heading_and_body(tmp_path: Path) -> None:
    document = read(write(tmp_path, ARTICLE_PAGE))

    labels = [section.label for section in document.sections]
    assert labels == [
        "Extended adjuvant letrozole in early breast cancer", "Background", "Methods", "Results", "Funding",
    ]  # fmt: skip
    slices = {section.label: document.text[section.start : section.end] for section in document.sections}
    assert slices["Background"] == "Background\nThe optimal duration of adjuvant endocrine therapy is unclear."
    assert slices["Results"] == "Results\nDisease-free survival improved.\narm events\nA 12"
    assert slices["Funding"] == "Funding\nFunded by a public grant."
    assert document.sections[-1].end == len(document.text)


def test_citation_meta_tags_give_the_metadata(tmp_path: Path) -> None:
    document = read(write(tmp_path, ARTICLE_PAGE))

    assert document.source_format is SourceFormat.HTML
    assert document.title == "Extended adjuvant letrozole in early breast cancer"
    assert document.authors == ["Smith, Jane A", "Müller, Hans"]
    assert document.year == 2019
    assert document.journal == "Journal of Oncology"
    assert document.doi == "10.1016/S1470-2045(19)30123-4"
    assert document.pmid == "31234567"
    assert document.url == "https://journal.example/articles/31234567"
    assert document.extra == {}


def test_dublin_core_and_title_tags_are_the_fallbacks(tmp_path: Path) -> None:
    page = """<html><head><title>  Patient leaflet:
      hot flushes </title>
      <meta name="DC.Creator" content="Doe J"><meta name="dc.creator" content="Roe R">
      <meta name="DC.Date" content="March 2017"><meta name="DC.Identifier" content="doi:10.1234/leaflet.5.">
      <meta property="og:url" content="javascript:alert(1)">
      <link rel="canonical" href="https://leaflets.example/hot-flushes">
      </head><body><p>Hot flushes are common.</p></body></html>"""

    document = read(write(tmp_path, page))

    assert document.title == "Patient leaflet: hot flushes"
    assert document.authors == ["Doe J", "Roe R"]
    assert document.year == 2017
    assert document.doi == "10.1234/leaflet.5"
    assert document.url == "https://leaflets.example/hot-flushes"  # a javascript: URL is never kept
    assert (document.journal, document.pmid) == (None, None)


def test_a_page_without_main_or_article_is_read_from_its_body(tmp_path: Path) -> None:
    page = """<html><body><div class="page-wrapper menu-open">
      <div class="menu"><a>MENU-ITEM</a></div>
      <h1>Tamoxifen</h1><p>Tamoxifen blocks oestrogen receptors.</p>
      <div role="navigation">ROLE-NAV</div><div hidden>HIDDEN-TEXT</div>
    </div></body></html>"""

    document = read(write(tmp_path, page))

    assert document.text == "Tamoxifen\nTamoxifen blocks oestrogen receptors."
    assert document.title == "Tamoxifen"


def test_a_page_whose_only_text_sits_in_a_block_named_like_furniture_is_still_read(tmp_path: Path) -> None:
    page = '<html><body><div class="cookie-free-content"><p>Statins lower LDL cholesterol.</p></div></body></html>'

    assert read(write(tmp_path, page)).text == "Statins lower LDL cholesterol."


def test_a_trailing_numbered_reference_list_is_split_off_without_a_heading_element(tmp_path: Path) -> None:
    page = """<html><body><h1>Review</h1><p>Aromatase inhibitors reduce recurrence.</p><p>References</p>
      <p>1. Smith J, et al. Lancet. 2010;375:1-9.</p><p>2. Doe A. JAMA. 2012;1:2.</p></body></html>"""

    document = read(write(tmp_path, page))

    assert document.text == "Review\nAromatase inhibitors reduce recurrence."
    assert document.references == ["1. Smith J, et al. Lancet. 2010;375:1-9.", "2. Doe A. JAMA. 2012;1:2."]
    assert document.sections[0].end == len(document.text)


def test_a_bibliography_page_titled_references_keeps_its_text(tmp_path: Path) -> None:
    page = "<html><body><h1>References</h1><p>A list kept as the page's content.</p></body></html>"

    document = read(write(tmp_path, page))

    assert document.text == "References\nA list kept as the page's content."
    assert document.references == []


@pytest.mark.parametrize(
    "page",
    [
        "<html><head><script>var a = 1;</script></head><body><script>alert(1)</script>"
        "<noscript>Enable JavaScript</noscript><style>p {}</style>  </body></html>",
        "<html><body><!-- only a comment --><nav>Home</nav></body></html>",
        "   \n",
    ],
)
def test_a_page_with_nothing_textual_is_empty(tmp_path: Path, page: str) -> None:
    path = write(tmp_path, page)

    with pytest.raises(EmptySource) as raised:
        read(path)

    assert str(raised.value) == f"cannot read {path}: the file contains no text; check that it is the file you meant"


@pytest.mark.parametrize("label", ["windows-1252", "iso-8859-1"])
def test_a_legacy_page_is_decoded_with_its_declared_charset(tmp_path: Path, label: str) -> None:
    page = f'<html><head><meta http-equiv="Content-Type" content="text/html; charset={label}"></head>'
    page += "<body><p>\u201cCaf\u00e9\u201d patients \u2013 na\u00efve</p></body></html>"

    document = read(write(tmp_path, page.encode("cp1252")))

    # Browsers read Latin-1 labels as Windows-1252, so the curly quotes survive either way.
    assert document.text == "\u201cCaf\u00e9\u201d patients \u2013 na\u00efve"
    assert document.extra == {"encoding": "cp1252"}


def test_utf8_wins_over_a_stale_legacy_label_and_a_bom_wins_over_everything(tmp_path: Path) -> None:
    stale = '<html><head><meta charset="iso-8859-1"></head><body><p>Café – ok</p></body></html>'
    utf16 = '<html><head><meta charset="windows-1252"></head><body><p>Café in UTF-16</p></body></html>'

    relabelled = read(write(tmp_path, stale.encode("utf-8"), "stale.html"))
    bom = read(write(tmp_path, utf16.encode("utf-16"), "bom.html"))

    assert relabelled.text == "Café – ok"
    assert relabelled.extra == {"encoding": "utf-8 (page declared cp1252)"}
    assert bom.text == "Café in UTF-16"
    assert bom.extra == {"encoding": "utf-16"}


def test_invalid_utf8_without_a_declared_charset_is_guessed_as_windows_1252(tmp_path: Path) -> None:
    document = read(write(tmp_path, b"<html><body><p>na\xefve \x93quote\x94</p></body></html>"))

    assert document.text == "na\u00efve \u201cquote\u201d"
    assert document.extra == {"encoding": "cp1252 (not valid UTF-8; guessed)"}


def test_hostile_markup_is_inert(tmp_path: Path) -> None:
    page = """<!DOCTYPE html [<!ENTITY xxe SYSTEM "file:///etc/passwd"><!ENTITY a "&a;&a;">]>
      <html><body><p onclick="alert(2)">Dose &amp;lt;script&amp;gt; &xxe; &a; &#0;&#x110000; &NotAnEntity; &lt;b&gt;</p>
      <img src=x onerror=alert(3)><a href="javascript:alert(4)">link</a>
      <svg onload="alert(5)"><script>alert(6)</script></svg><template><script>alert(7)</script></template>
      </body></html>"""

    document = read(write(tmp_path, page))

    assert "root:" not in document.text
    assert "alert" not in document.text
    assert document.text.startswith("Dose &lt;script&gt; &xxe; &a; ")
    assert "&NotAnEntity; <b>\nlink" in document.text


def test_absurdly_deep_nesting_is_refused_quickly_with_the_fix(tmp_path: Path) -> None:
    depth = 100_000
    path = write(tmp_path, "<html><body>" + "<div>" * depth + "deep" + "</div>" * depth + "</body></html>")

    started = time.perf_counter()
    with pytest.raises(UnreadableSource) as raised:
        read(path)

    assert time.perf_counter() - started < 5
    assert str(raised.value) == (
        f"cannot read {path}: the page nests elements more than 2,048 deep, so the parser stopped part-way; "
        "save the article's text (for example from the browser's reader view) as HTML or plain text"
    )


def test_deep_but_legal_nesting_is_read(tmp_path: Path) -> None:
    depth = 1500
    page = "<html><body><p>before</p>" + "<div>" * depth + "deep" + "</div>" * depth + "<p>after</p></body></html>"

    assert read(write(tmp_path, page)).text == "before\ndeep\nafter"


def test_a_missing_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(UnreadableSource) as raised:
        read(tmp_path / "absent.html")

    assert str(raised.value) == (
        f"cannot read {tmp_path / 'absent.html'}: the file could not be read (No such file or directory); "
        "check the path and permissions"
    )


_TEXT = st.text(st.characters(exclude_categories=["Cs", "Cc", "Cn"]), max_size=40)


@settings(max_examples=60, deadline=None)
@given(blocks=st.lists(st.tuples(st.integers(1, 6), _TEXT, _TEXT), min_size=1, max_size=6))
def test_every_section_slice_starts_with_its_heading_line(
    tmp_path_factory: pytest.TempPathFactory, blocks: list[tuple[int, str, str]]
) -> None:
    body = "".join(
        f"<h{level}>{html.escape(heading)}</h{level}><p>{html.escape(text)}</p>" for level, heading, text in blocks
    )
    path = write(tmp_path_factory.mktemp("prop"), f"<html><body><main>x{body}</main></body></html>")

    document = read(path)

    for section in document.sections:
        assert document.text[section.start : section.end].split("\n", 1)[0] == section.label
        assert section.start == 0 or document.text[section.start - 1] == "\n"
