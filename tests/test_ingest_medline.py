"""MEDLINE/PubMed XML reader: every field, sections, broken and hostile files, bounded memory."""

from __future__ import annotations

import os
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medevidence.errors import BadRecord, EmptySource, UnreadableSource
from medevidence.ingest.medline import read_medline
from medevidence.models import ParsedDocument, Section, SourceFormat

HEADER = """<?xml version="1.0" ?>
<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" \
"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">
<PubmedArticleSet>
"""
FOOTER = "</PubmedArticleSet>\n"

TRIAL = """<PubmedArticle>
  <MedlineCitation Status="MEDLINE" Owner="NLM">
    <PMID Version="1">31234567</PMID>
    <Article PubModel="Print-Electronic">
      <Journal>
        <ISSN IssnType="Electronic">1474-5488</ISSN>
        <JournalIssue CitedMedium="Internet">
          <Volume>20</Volume><Issue>6</Issue>
          <PubDate><Year>2019</Year><Month>Jun</Month></PubDate>
        </JournalIssue>
        <Title>The Lancet. Oncology</Title>
        <ISOAbbreviation>Lancet Oncol</ISOAbbreviation>
      </Journal>
      <ArticleTitle>Extended adjuvant <i>letrozole</i> in HER2<sup>-</sup> early breast cancer: \
a randomised trial.</ArticleTitle>
      <Pagination><MedlinePgn>751-760</MedlinePgn></Pagination>
      <ELocationID EIdType="pii" ValidYN="Y">S1470-2045(19)30123-4</ELocationID>
      <ELocationID EIdType="doi" ValidYN="Y">10.1016/S1470-2045(19)30123-4</ELocationID>
      <Abstract>
        <AbstractText Label="BACKGROUND" NlmCategory="BACKGROUND">The optimal duration of
          adjuvant endocrine therapy is unclear.</AbstractText>
        <AbstractText Label="METHODS" NlmCategory="METHODS">We randomly assigned 1200 women to
          <i>letrozole</i> or placebo for 5 years.</AbstractText>
        <AbstractText Label="FINDINGS" NlmCategory="RESULTS">Disease-free survival improved
          (HR 0.78; <b>p</b>=0.01; 10<sup>3</sup> events).</AbstractText>
        <AbstractText Label="INTERPRETATION" NlmCategory="CONCLUSIONS">Extended therapy helps.</AbstractText>
        <CopyrightInformation>Copyright &#169; 2019 Elsevier Ltd.</CopyrightInformation>
      </Abstract>
      <AuthorList CompleteYN="Y">
        <Author ValidYN="Y"><LastName>Smith</LastName><ForeName>Jane A</ForeName><Initials>JA</Initials></Author>
        <Author ValidYN="N"><LastName>Mueller</LastName><ForeName>Hans</ForeName><Initials>H</Initials></Author>
        <Author ValidYN="Y"><LastName>M&#252;ller</LastName><ForeName>Hans</ForeName><Initials>H</Initials></Author>
        <Author ValidYN="Y"><CollectiveName>BIG 1-98 Collaborative Group</CollectiveName></Author>
      </AuthorList>
      <Language>eng</Language>
      <PublicationTypeList>
        <PublicationType UI="D016428">Journal Article</PublicationType>
        <PublicationType UI="D016449">Randomized Controlled Trial</PublicationType>
      </PublicationTypeList>
      <ArticleDate DateType="Electronic"><Year>2019</Year><Month>05</Month><Day>02</Day></ArticleDate>
    </Article>
    <MedlineJournalInfo><Country>England</Country><MedlineTA>Lancet Oncol</MedlineTA></MedlineJournalInfo>
    <MeshHeadingList>
      <MeshHeading><DescriptorName UI="D001943" MajorTopicYN="N">Breast Neoplasms</DescriptorName>
        <QualifierName UI="Q000188" MajorTopicYN="Y">drug therapy</QualifierName></MeshHeading>
      <MeshHeading><DescriptorName UI="D000077289" MajorTopicYN="N">Letrozole</DescriptorName></MeshHeading>
    </MeshHeadingList>
    <KeywordList Owner="NOTNLM"><Keyword MajorTopicYN="N">endocrine therapy</Keyword></KeywordList>
  </MedlineCitation>
  <PubmedData>
    <ArticleIdList>
      <ArticleId IdType="pubmed">31234567</ArticleId>
      <ArticleId IdType="pmc">PMC6543210</ArticleId>
    </ArticleIdList>
    <ReferenceList><Reference><Citation>EBCTCG. Lancet. 2005;365:1687-717.</Citation>
      <ArticleIdList><ArticleId IdType="doi">10.1016/not-this-one</ArticleId></ArticleIdList>
    </Reference></ReferenceList>
  </PubmedData>
</PubmedArticle>
"""

# No abstract, a MedlineDate, and the DOI only in the ArticleIdList.
REVIEW = """<PubmedArticle>
  <MedlineCitation Status="MEDLINE" Owner="NLM">
    <PMID Version="1">10000001</PMID>
    <Article PubModel="Print">
      <Journal><JournalIssue><PubDate><MedlineDate>1998 Dec-1999 Jan</MedlineDate></PubDate></JournalIssue>
        <Title>Cancer</Title></Journal>
      <ArticleTitle>Tamoxifen and the uterus.</ArticleTitle>
      <AuthorList><Author><LastName>Doe</LastName><Initials>J</Initials></Author></AuthorList>
      <PublicationTypeList><PublicationType>Review</PublicationType></PublicationTypeList>
    </Article>
  </MedlineCitation>
  <PubmedData><ArticleIdList><ArticleId IdType="doi">10.1002/cncr.1</ArticleId></ArticleIdList></PubmedData>
</PubmedArticle>
"""


def write(tmp_path: Path, body: str, header: str = HEADER, name: str = "pubmed.xml") -> Path:
    path = tmp_path / name
    path.write_text(header + body + FOOTER, encoding="utf-8")
    return path


def documents(path: Path) -> list[ParsedDocument]:
    records = list(read_medline(path))
    assert all(isinstance(record, ParsedDocument) for record in records), records
    return [record for record in records if isinstance(record, ParsedDocument)]


def article(pmid: str = "1", title: str = "A title.", abstract: str = "") -> str:
    pmid_xml = f"<PMID>{pmid}</PMID>" if pmid else ""
    title_xml = f"<ArticleTitle>{title}</ArticleTitle>" if title else ""
    abstract_xml = f"<Abstract>{abstract}</Abstract>" if abstract else ""
    return (
        f"<PubmedArticle><MedlineCitation>{pmid_xml}<Article>{title_xml}{abstract_xml}</Article>"
        "</MedlineCitation></PubmedArticle>\n"
    )


def test_structured_abstract_becomes_labelled_sections_and_every_field_is_read(tmp_path: Path) -> None:
    trial, review = documents(write(tmp_path, TRIAL + REVIEW))

    assert trial.text == (
        "BACKGROUND: The optimal duration of adjuvant endocrine therapy is unclear.\n"
        "METHODS: We randomly assigned 1200 women to letrozole or placebo for 5 years.\n"
        "FINDINGS: Disease-free survival improved (HR 0.78; p=0.01; 103 events).\n"
        "INTERPRETATION: Extended therapy helps."
    )
    assert [section.label for section in trial.sections] == ["BACKGROUND", "METHODS", "FINDINGS", "INTERPRETATION"]
    assert [trial.text[s.start : s.end] for s in trial.sections] == trial.text.split("\n")
    assert trial.source_format is SourceFormat.MEDLINE
    assert trial.title == "Extended adjuvant letrozole in HER2- early breast cancer: a randomised trial."
    assert trial.authors == ["Smith JA", "Müller H", "BIG 1-98 Collaborative Group"]
    assert trial.journal == "The Lancet. Oncology"
    assert trial.year == 2019
    assert trial.pmid == trial.external_id == "31234567"
    assert trial.doi == "10.1016/S1470-2045(19)30123-4"
    assert trial.url == "https://pubmed.ncbi.nlm.nih.gov/31234567/"
    assert trial.publication_types == ["Journal Article", "Randomized Controlled Trial"]
    assert trial.mesh_terms == ["Breast Neoplasms", "Letrozole"]
    assert trial.references == ["EBCTCG. Lancet. 2005;365:1687-717."]
    assert trial.extra == {"pmcid": "PMC6543210", "keywords": ["endocrine therapy"]}

    assert review.text == review.title == "Tamoxifen and the uterus."
    assert review.sections == []
    assert review.year == 1998
    assert review.doi == "10.1002/cncr.1"
    assert review.authors == ["Doe J"]
    assert review.publication_types == ["Review"]
    assert review.mesh_terms == []


def test_nlm_category_labels_when_there_is_no_label_and_unlabelled_parts_are_plain_lines(tmp_path: Path) -> None:
    abstract = (
        '<AbstractText NlmCategory="OBJECTIVE">To test.</AbstractText>'
        '<AbstractText NlmCategory="UNASSIGNED">Plain part.</AbstractText>'
        "<AbstractText>Another plain part.</AbstractText>"
        '<AbstractText Label="EMPTY"/>'
    )
    body = article(abstract=abstract).replace("</Article>", "<ArticleDate><Year>2021</Year></ArticleDate></Article>")
    (document,) = documents(write(tmp_path, body))

    assert document.text == "OBJECTIVE: To test.\nPlain part.\nAnother plain part."
    assert document.sections == [Section("OBJECTIVE", 0, len("OBJECTIVE: To test."))]
    assert document.year == 2021  # from ArticleDate: the record has no PubDate


def test_medline_citation_set_and_book_chapters_are_read(tmp_path: Path) -> None:
    citation_set = tmp_path / "citations.xml"
    citation_set.write_text(
        '<?xml version="1.0"?>\n<MedlineCitationSet>'
        "<MedlineCitation><PMID>5</PMID><Article><ArticleTitle>Old citation.</ArticleTitle></Article>"
        "</MedlineCitation></MedlineCitationSet>",
        encoding="utf-8",
    )
    book = """<PubmedBookArticle><BookDocument>
      <PMID Version="1">29083621</PMID>
      <ArticleIdList><ArticleId IdType="bookaccession">NBK459207</ArticleId></ArticleIdList>
      <Book><BookTitle>StatPearls</BookTitle><PubDate><Year>2024</Year></PubDate></Book>
      <ArticleTitle>Breast Cancer</ArticleTitle>
      <Abstract><AbstractText>Breast cancer is the most common cancer in women.</AbstractText></Abstract>
      <AuthorList Type="authors"><Author><LastName>Alkabban</LastName><Initials>FM</Initials></Author></AuthorList>
      <PublicationType UI="D016454">Review</PublicationType>
    </BookDocument></PubmedBookArticle>
    """

    (old,) = documents(citation_set)
    (chapter,) = documents(write(tmp_path, book))

    assert (old.pmid, old.text) == ("5", "Old citation.")
    assert chapter.title == "Breast Cancer"
    assert chapter.text == "Breast cancer is the most common cancer in women."
    assert (chapter.journal, chapter.year, chapter.pmid) == ("StatPearls", 2024, "29083621")
    assert chapter.authors == ["Alkabban FM"]
    assert chapter.publication_types == ["Review"]


def test_an_article_with_neither_pmid_nor_title_is_a_bad_record_and_the_rest_are_read(tmp_path: Path) -> None:
    body = article(pmid="1") + article(pmid="", title="", abstract="<AbstractText>Orphan.</AbstractText>")
    body += article(pmid="3", title="") + article(pmid="4")
    path = write(tmp_path, body)

    first, no_id, no_text, last = list(read_medline(path))

    assert isinstance(first, ParsedDocument) and first.pmid == "1"
    assert isinstance(last, ParsedDocument) and last.pmid == "4"
    assert isinstance(no_id, BadRecord)
    assert str(no_id) == (
        f"cannot read {path} article 2 (line 5): the article has no PMID and no ArticleTitle; "
        "check that the record was exported whole"
    )
    assert isinstance(no_text, BadRecord)
    assert (
        str(no_text)
        == f"cannot read {path} article 3 (line 6): PMID 3 has no title and no abstract; fetch the record again"
    )


def test_broken_xml_after_some_articles_keeps_them_and_names_the_line(tmp_path: Path) -> None:
    broken = "<PubmedArticle><MedlineCitation><PMID>3</PMID><Article><ArticleTitle>Cut</Article>\n"
    path = write(tmp_path, article(pmid="1") + article(pmid="2") + broken + article(pmid="4"))

    *read, bad = list(read_medline(path))

    assert [document.pmid for document in read if isinstance(document, ParsedDocument)] == ["1", "2"]
    assert isinstance(bad, BadRecord)
    assert bad.location == "line 6"
    message = str(bad)
    assert message.startswith(f"cannot read {path} line 6: the XML is broken (Opening and ending tag mismatch")
    assert message.endswith(
        "; the 2 articles before it were read; download the file again, or repair the XML from that line on"
    )


def test_a_file_cut_off_before_its_first_article_ends_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "cut.xml"
    path.write_text(HEADER + "<PubmedArticle><MedlineCitation><PMID>1</PMID><Arti", encoding="utf-8")

    with pytest.raises(UnreadableSource) as raised:
        list(read_medline(path))

    assert str(raised.value).startswith(f"cannot read {path}: the XML is broken at line 4 (")
    assert str(raised.value).endswith("); download the file again, or repair the XML")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("PMID- 12345\nTI  - A MEDLINE text export\n", "the file is not XML (Start tag expected, '<' not found"),
        ('<?xml version="1.0"?><article><front/></article>', "the XML root is <article>, not <PubmedArticleSet>"),
    ],
)
def test_a_file_that_is_not_a_pubmed_article_set_is_refused_with_the_fix(
    tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "export.xml"
    path.write_text(content, encoding="utf-8")

    with pytest.raises(UnreadableSource) as raised:
        list(read_medline(path))

    message = str(raised.value)
    assert message.startswith(f"cannot read {path}: {problem}")
    assert message.endswith("; fetch the records as PubMed XML (E-utilities efetch with db=pubmed&retmode=xml)")


@pytest.mark.parametrize("content", ["", "  \n", HEADER + FOOTER])
def test_a_blank_file_or_an_empty_article_set_is_empty(tmp_path: Path, content: str) -> None:
    path = tmp_path / "empty.xml"
    path.write_text(content, encoding="utf-8")

    with pytest.raises(EmptySource) as raised:
        list(read_medline(path))

    assert str(raised.value) == f"cannot read {path}: the file contains no text; check that it is the file you meant"


def test_a_missing_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(UnreadableSource) as raised:
        list(read_medline(tmp_path / "absent.xml"))

    assert str(raised.value) == (
        f"cannot read {tmp_path / 'absent.xml'}: the file could not be opened (No such file or directory); "
        "check the path and permissions"
    )


def test_external_entities_are_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT", encoding="utf-8")
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY fromdtd "DTD-WAS-LOADED">', encoding="utf-8")
    title = "<ArticleTitle>Leak &xxe; &fromdtd; here</ArticleTitle>"
    doctypes = [
        '<!DOCTYPE PubmedArticleSet [<!ENTITY xxe SYSTEM "file:///etc/passwd"><!ENTITY fromdtd "x">]>',
        f'<!DOCTYPE PubmedArticleSet [<!ENTITY xxe SYSTEM "{secret.as_uri()}"><!ENTITY fromdtd "x">]>',
        f'<!DOCTYPE PubmedArticleSet [<!ENTITY xxe SYSTEM "{secret.as_uri()}">'
        f'<!ENTITY % d SYSTEM "{dtd.as_uri()}"> %d;]>',
        f'<!DOCTYPE PubmedArticleSet SYSTEM "{dtd.as_uri()}">',
    ]
    for index, doctype in enumerate(doctypes):
        path = tmp_path / f"xxe{index}.xml"
        path.write_text(
            f'<?xml version="1.0"?>\n{doctype}\n<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID>'
            f"<Article>{title}</Article></MedlineCitation></PubmedArticle></PubmedArticleSet>",
            encoding="utf-8",
        )

        (document,) = documents(path)

        assert document.text == document.title == "Leak here", doctype


def test_an_entity_expansion_bomb_is_refused_without_expanding(tmp_path: Path) -> None:
    levels = ['<!ENTITY lol0 "lollollollollollollollollollol">']
    levels += [f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)]
    path = tmp_path / "bomb.xml"
    path.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet [{"".join(levels)}]>\n<PubmedArticleSet>'
        "<PubmedArticle><MedlineCitation><PMID>1</PMID><Article><ArticleTitle>Boom &lol9;</ArticleTitle>"
        "</Article></MedlineCitation></PubmedArticle></PubmedArticleSet>",
        encoding="utf-8",
    )

    with pytest.raises(UnreadableSource) as raised:
        list(read_medline(path))

    assert "the XML exceeds a parser safety limit" in str(raised.value)
    assert str(raised.value).endswith("; PubMed exports never do; fetch the records from PubMed again")


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="resident memory is read from /proc")
def test_memory_stays_flat_over_a_large_file(tmp_path: Path) -> None:
    # tracemalloc cannot see libxml2's tree, so resident memory is what is measured; an
    # uncleared tree of this file takes about 80 MB. The bulk is a translated abstract the
    # reader skips, so the test spends its time parsing rather than normalising text.
    translation = '<OtherAbstract Type="Publisher" Language="ger"><AbstractText>'
    translation += "Weitere Worte zu Nutzen und Schaden. " * 250 + "</AbstractText></OtherAbstract>"
    body = TRIAL.replace("</Article>", "</Article>" + translation)
    path = tmp_path / "large.xml"
    with path.open("w", encoding="utf-8") as handle:
        handle.write(HEADER)
        for number in range(2000):
            handle.write(body.replace("31234567", str(40_000_000 + number)))
        handle.write(FOOTER)
    size = path.stat().st_size
    start = _resident_bytes()
    peak = count = 0

    for _ in read_medline(path):
        count += 1
        if count % 100 == 0:
            peak = max(peak, _resident_bytes() - start)

    assert count == 2000
    assert size > 20_000_000
    assert peak < size / 4, f"resident memory grew by {peak / 1e6:.0f} MB over a {size / 1e6:.0f} MB file"


def _resident_bytes() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


_XML_TEXT = st.text(st.characters(exclude_categories=["Cs", "Cc", "Cn"]), max_size=60)
_LABEL = st.text(st.characters(categories=["Lu"]), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(parts=st.lists(st.tuples(_LABEL, _XML_TEXT), min_size=1, max_size=5))
def test_every_section_slice_is_its_labelled_line(
    tmp_path_factory: pytest.TempPathFactory, parts: list[tuple[str, str]]
) -> None:
    abstract = "".join(f'<AbstractText Label="{label}">{escape(text)}</AbstractText>' for label, text in parts)
    path = write(tmp_path_factory.mktemp("prop"), article(abstract=abstract))

    (document,) = documents(path)

    for section in document.sections:
        line = document.text[section.start : section.end]
        assert line.startswith(f"{section.label}: ")
        assert "\n" not in line
        assert section.end == len(document.text) or document.text[section.end] == "\n"
