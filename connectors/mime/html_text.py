"""HTML bodies as readable plain text, with only the standard library."""

from __future__ import annotations

import re
from html.parser import HTMLParser


class _HTMLText(HTMLParser):
    """Readable text of an HTML body: blocks on their own lines, blockquotes as "> " quotes.

    Quoting the blockquotes keeps a reply's history recognisable as history once the HTML is text.
    """

    SKIPPED = frozenset({"script", "style", "head", "title", "noscript", "template", "svg"})
    PARAGRAPHS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "pre", "hr"})
    LINES = frozenset({"div", "li", "tr", "dd", "dt", "section", "article", "header", "footer", "address"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str]] = []
        self.current: list[str] = []
        self.depth = 0
        self.line_depth = 0
        self.skipping = 0
        self.pre = 0

    def _newline(self, *, hard: bool = False) -> None:
        """End the current line. Block edges only break a line that has text; <br> always breaks."""
        text = "".join(self.current).replace("\xa0", " ")
        text = text.rstrip() if self.pre else text.strip()
        if text or hard:
            self.lines.append((self.line_depth, text))
        self.current = []
        self.line_depth = self.depth

    def _paragraph(self) -> None:
        self._newline()
        if self.lines and self.lines[-1][1]:
            self.lines.append((self.depth, ""))

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "body":
            self.skipping = 0  # a <head> that was never closed must not hide the body
        elif tag in self.SKIPPED:
            self.skipping += 1
        elif tag == "blockquote":
            self._paragraph()
            self.depth += 1
            self.line_depth = self.depth
        elif tag in self.PARAGRAPHS:
            self._paragraph()
            self.pre += tag == "pre"
        elif tag == "br":
            self._newline(hard=True)
        elif tag in self.LINES:
            self._newline()
        elif tag in {"td", "th"}:
            self.current.append(" ")

    def handle_startendtag(self, tag: str, attrs) -> None:
        if tag == "br":
            self._newline(hard=True)
        elif tag == "hr":
            self._paragraph()

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag == "blockquote":
            self._newline()
            self.depth = max(0, self.depth - 1)
            self.line_depth = self.depth
            self.lines.append((self.depth, ""))
        elif tag in self.PARAGRAPHS:
            self.pre = max(0, self.pre - (tag == "pre"))
            self._paragraph()
        elif tag in self.LINES:
            self._newline()

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        if self.pre:
            first, *rest = data.split("\n")
            self.current.append(first)
            for line in rest:
                self._newline(hard=True)
                self.current.append(line)
            return
        # Whitespace in HTML is insignificant: runs of it are one space, and none at a line's start.
        data = re.sub(r"[ \t\r\n\f]+", " ", data)
        if data.startswith(" ") and (not self.current or self.current[-1].endswith(" ")):
            data = data[1:]
        self.current.append(data)

    def text(self) -> str:
        self._newline()
        lines = self.lines
        out: list[str] = []
        for index, (depth, line) in enumerate(lines):
            if line:
                out.append(("> " * depth + line) if depth else line)
                continue
            if not out or not out[-1]:
                continue
            # A blank line inside a quote stays quoted only between two quoted lines.
            following = next((d for d, text in lines[index + 1 :] if text), 0)
            previous = next((d for d, text in reversed(lines[:index]) if text), 0)
            depth = min(following, previous)
            out.append(">" * depth if depth else "")
        return "\n".join(out).strip()


def html_to_text(html: str) -> str:
    """HTML as readable plain text, with only the standard library."""
    parser = _HTMLText()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser is lenient; this only guards against the unforeseen
        return re.sub(r"<[^>]+>", " ", html)
    return parser.text()
