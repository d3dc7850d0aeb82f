"""HTML in posts becomes plain text; written markup stays literal."""

from collectors.text import html_to_text


def test_paragraphs_and_breaks_become_lines() -> None:
    html = (
        '<p>There are 5 <a href="https://x/tags/ICE">#<span>ICE</span></a> stations</p>'
        "<p>Ottawa<br>Calgary</p>"
    )
    assert html_to_text(html) == "There are 5 #ICE stations\nOttawa\nCalgary"


def test_entities_are_decoded_and_written_markup_stays_literal() -> None:
    assert html_to_text("<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; l&#8217;ICE</p>") == (
        "<script>alert(1)</script> & l\u2019ICE"
    )


def test_scripts_and_styles_are_dropped() -> None:
    assert html_to_text("<p>hi</p><script>evil()</script><style>p{}</style>") == "hi"


def test_empty_and_none_give_empty_text() -> None:
    assert (html_to_text(None), html_to_text("")) == ("", "")


def test_a_bare_paragraph_tag_starts_a_line() -> None:
    assert html_to_text("first paragraph<p>second<p>third") == "first paragraph\nsecond\nthird"
