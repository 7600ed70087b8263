"""Page layout shared by lot reports and certificates: fonts, styles, safe text, page footer.

Every piece of text from work orders, inspections or reviews goes through :func:`esc` before it
becomes Paragraph markup, so ``<b>``, ``&``, ``<font ...>`` or ``<img src=...>`` in a work
order are printed literally and can neither break the PDF nor pull in local files.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate, Paragraph

PAGE = A4
MARGIN = 15 * mm
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/local/share/fonts",
              "/Library/Fonts", "C:/Windows/Fonts")


@dataclass(frozen=True)
class ReportInfo:
    """What a report build produced.

    ``document_hash`` is the SHA-256 of the canonical JSON of the data the report shows
    (printed on every page); ``pdf_sha256`` the SHA-256 of the PDF file's bytes (also written
    to ``<pdf>.sha256``). ``n_parts`` counts the inspections the report covers.
    """

    path: str
    pages: int
    document_hash: str
    n_parts: int
    pdf_sha256: str = ""
    n_flagged: int = 0
    n_gallery: int = 0
    missing_images: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class Fonts:
    regular: str
    bold: str
    italic: str
    mono: str


@lru_cache(maxsize=1)
def fonts() -> Fonts:
    """DejaVu (wide Unicode coverage: ≤, mm², Greek, Cyrillic) when the machine has it, else the
    PDF base fonts (Latin-1 only; other characters print as a blank box but never fail)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    files = {"InspSans": "DejaVuSans.ttf", "InspSans-Bold": "DejaVuSans-Bold.ttf",
             "InspSans-Oblique": "DejaVuSans-Oblique.ttf", "InspMono": "DejaVuSansMono.ttf"}
    extra = os.environ.get("INSPECTOR_FONT_DIR")
    for d in ((extra,) if extra else ()) + _FONT_DIRS:
        paths = {k: os.path.join(d, f) for k, f in files.items()}
        if all(os.path.isfile(p) for p in paths.values()):
            try:
                for name, p in paths.items():
                    pdfmetrics.registerFont(TTFont(name, p))
                pdfmetrics.registerFontFamily("InspSans", normal="InspSans", bold="InspSans-Bold",
                                              italic="InspSans-Oblique", boldItalic="InspSans-Bold")
                return Fonts("InspSans", "InspSans-Bold", "InspSans-Oblique", "InspMono")
            except Exception:  # a broken font file must not stop a report
                continue
    return Fonts("Helvetica", "Helvetica-Bold", "Helvetica-Oblique", "Courier")


def clean(text: object) -> str:
    """Text with control characters and lone surrogates removed (they cannot go into a PDF)."""
    return _CONTROL.sub("", "" if text is None else str(text))


def esc(text: object, limit: int | None = None) -> str:
    """Paragraph-safe markup for untrusted text: cleaned, XML-escaped, newlines as <br/>.

    ``limit`` truncates (characters) with an ellipsis; the full text is in the exports.
    """
    s = clean(text)
    if limit is not None and len(s) > limit:
        s = s[: limit - 1] + "\u2026"
    return escape(s).replace("\r\n", "\n").replace("\n", "<br/>")


@lru_cache(maxsize=1)
def styles() -> dict[str, ParagraphStyle]:
    f = fonts()
    base = ParagraphStyle("body", fontName=f.regular, fontSize=8.5, leading=11, alignment=TA_LEFT,
                          splitLongWords=1)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7, leading=8.8),
        "cell": ParagraphStyle("cell", parent=base, fontSize=7, leading=8.5),
        "cellb": ParagraphStyle("cellb", parent=base, fontName=f.bold, fontSize=7, leading=8.5),
        "title": ParagraphStyle("title", parent=base, fontName=f.bold, fontSize=16, leading=20,
                                spaceAfter=4),
        "h1": ParagraphStyle("h1", parent=base, fontName=f.bold, fontSize=12, leading=15, spaceBefore=8,
                             spaceAfter=4, keepWithNext=1),
        "h2": ParagraphStyle("h2", parent=base, fontName=f.bold, fontSize=9.5, leading=12, spaceBefore=4,
                             spaceAfter=2, keepWithNext=1),
        "note": ParagraphStyle("note", parent=base, fontName=f.italic, fontSize=7.5, leading=9.5,
                               textColor=colors.HexColor("#4b5563")),
    }


def P(markup: str, style: str = "body") -> Paragraph:
    """A Paragraph from markup that the caller built with :func:`esc` around every untrusted value."""
    return Paragraph(markup, styles()[style])


def T(text: object, style: str = "cell", limit: int | None = 400) -> Paragraph:
    """A Paragraph of plain untrusted text (escaped here)."""
    return Paragraph(esc(text, limit), styles()[style])


class _FooterCanvas(rl_canvas.Canvas):
    """Defines the 'page total' form at save time, so each page can say "page x of y" without
    keeping every page in memory."""

    def save(self) -> None:  # noqa: D401 - reportlab API
        total = self._pageNumber - 1
        self.beginForm("inspector_page_total")
        self.setFont(fonts().regular, 7)
        self.setFillColor(colors.HexColor("#374151"))
        self.drawString(0, 0, str(total))
        self.endForm()
        self.inspector_pages = total
        super().save()


class ReportDoc(BaseDocTemplate):
    """A4 portrait document whose every page carries title, document hash and "page x of y"."""

    def __init__(self, path: str, *, title: str, document_hash: str, subject: str = "", author: str = ""):
        super().__init__(path, pagesize=PAGE, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                         bottomMargin=MARGIN + 6 * mm, title=clean(title), subject=clean(subject),
                         author=clean(author), creator="Inspector", pageCompression=1, invariant=0)
        self._footer_title = clean(title)
        self._hash = document_hash
        frame = Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id="body",
                      leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        self.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=self._footer)])

    def _footer(self, canv: rl_canvas.Canvas, doc: BaseDocTemplate) -> None:
        f = fonts()
        w, _ = PAGE
        y = MARGIN - 2 * mm
        canv.saveState()
        canv.setStrokeColor(colors.HexColor("#9ca3af"))
        canv.setLineWidth(0.4)
        canv.line(MARGIN, y + 9, w - MARGIN, y + 9)
        canv.setFillColor(colors.HexColor("#374151"))
        canv.setFont(f.regular, 7)
        title = self._footer_title if len(self._footer_title) <= 70 else self._footer_title[:69] + "\u2026"
        canv.drawString(MARGIN, y, title)
        canv.setFont(f.mono, 6)
        canv.drawString(MARGIN, y - 8, f"document sha256 {self._hash}")
        canv.setFont(f.regular, 7)
        x = w - MARGIN - 16
        canv.drawRightString(x, y, f"page {canv.getPageNumber()} of")
        canv.translate(x + 2, y)
        canv.doForm("inspector_page_total")
        canv.restoreState()

    def build_story(self, story: Iterable[Flowable]) -> int:
        """Build from a (possibly lazy) sequence of flowables; returns the page count.

        Streams are written binary (no ASCII85): JPEG thumbnails are embedded as they are,
        which makes the file ~20 % smaller and skips reportlab's pure-Python encoder.
        """
        from reportlab import rl_config

        saved = rl_config.useA85
        rl_config.useA85 = 0
        try:
            self.build(story if isinstance(story, list) else LazyStory(story), canvasmaker=_FooterCanvas)
        finally:
            rl_config.useA85 = saved
        return int(getattr(self.canv, "inspector_pages", self.page))


class LazyStory:
    """A list-like view over a flowable iterator, so platypus pulls flowables on demand and each
    gallery entry (with its thumbnails) exists only while it is laid out.

    It supports what ``BaseDocTemplate.build`` uses: ``len``, indexing and slicing from the
    front, ``del``, ``insert`` and slice assignment. ``len`` reports the buffered look-ahead
    (at least ``lookahead`` items while the iterator has more), which covers keep-with-next chains.
    """

    def __init__(self, items: Iterable[Flowable], lookahead: int = 12) -> None:
        self._it: Iterator[Flowable] | None = iter(items)
        self._buf: list[Flowable] = []
        self._look = lookahead

    def _fill(self, n: int) -> None:
        while self._it is not None and len(self._buf) < n:
            try:
                self._buf.append(next(self._it))
            except StopIteration:
                self._it = None

    def __len__(self) -> int:
        self._fill(self._look)
        return len(self._buf)

    def __bool__(self) -> bool:
        return len(self) > 0

    def __getitem__(self, i):
        if isinstance(i, slice):
            self._fill(self._look if i.stop is None else max(i.stop, 0))
        else:
            self._fill(i + 1 if i >= 0 else self._look)
        return self._buf[i]

    def __setitem__(self, i, value) -> None:
        self._buf[i] = value

    def __delitem__(self, i) -> None:
        if isinstance(i, slice) and i.stop is not None:
            self._fill(i.stop)
        self._buf.__delitem__(i)

    def insert(self, i: int, value: Flowable) -> None:
        self._buf.insert(i, value)

    def __iter__(self) -> Iterator[Flowable]:  # not used by platypus; drains the story
        while len(self):
            yield self._buf.pop(0)
