"""Post text as plain text: HTML removed, entities decoded, line breaks kept where HTML had them.

Sources that send HTML (Mastodon `content`, news descriptions) go through `html_to_text`; the
result is what the Post contract's `text` holds. Markup is dropped, never interpreted: a post that
*writes* `<script>` in its text arrives escaped (`&lt;script&gt;`) and comes out as the literal
characters `<script>`.
"""

from __future__ import annotations

from html.parser import HTMLParser

_BREAKS = {"br", "p", "div", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "tr"}
_DROPPED = {"script", "style", "template"}


class _TextOf(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._dropping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED:
            self._dropping += 1
        elif tag in _BREAKS:  # a bare <p> (Hacker News) starts a paragraph too
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED:
            self._dropping = max(0, self._dropping - 1)
        elif tag in _BREAKS and tag != "br":
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._dropping:
            self.parts.append(data)


def html_to_text(html: str | None) -> str:
    """Plain text of an HTML fragment; paragraphs and <br> become line breaks."""
    if not html:
        return ""
    parser = _TextOf()
    parser.feed(html)
    parser.close()
    lines = "".join(parser.parts).splitlines()
    return "\n".join(line.strip() for line in lines if line.strip())
