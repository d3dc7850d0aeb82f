"""The digest as Markdown and as HTML, from a `DayReport`.

Everything that comes from posts or sources (texts, handles, names, errors, links) is escaped:
HTML-escaped in the HTML, and in the Markdown escaped for Markdown with `&`, `<` and `>` as
entities, so that no post can inject markup into either. Links are kept only if they are http(s).
The Markdown opens with a short summary between `<!-- summary -->` markers: the webhook posts it.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable, Iterable
from datetime import date, datetime
from urllib.parse import quote, urlsplit

from digest.deliver import SUMMARY_END, SUMMARY_START
from digest.report import (
    ClaimDay,
    CorrectionOfDay,
    DayReport,
    SourceHealth,
    TopicDay,
    TopPost,
)

_Escape = Callable[[str], str]

EXCERPT_CHARS = 280

# --- words and numbers, shared by both formats ----------------------------------------------------


def long_day(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def title(report: DayReport) -> str:
    revised = f", revision {report.revision.version}" if report.revision else ""
    return f"claimwatch digest: {long_day(report.day)} ({report.timezone}){revised}"


def revision_note(report: DayReport) -> str | None:
    """What a revision says of itself, under its title: why it was written and what changed."""
    revision = report.revision
    if revision is None:
        return None
    return (
        f"Revision {revision.version} of this digest: posts of the day were stored after the "
        f"version written {report.local(revision.previous_written_at):%Y-%m-%d %H:%M}, and "
        f"its figures changed. What changed: {revision.changes}."
    )


def number(value: int) -> str:
    return f"{value:,}"


def posts(value: int) -> str:
    return f"{value:,} post" if value == 1 else f"{value:,} posts"


def change(now: int, before: int) -> str:
    diff = now - before
    return f"+{diff:,}" if diff > 0 else f"{diff:,}" if diff < 0 else "0"


def rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def clock(report: DayReport, moment: datetime) -> str:
    """A time of the day as HH:MM; another day's time with its date."""
    local = report.local(moment)
    return f"{local:%H:%M}" if local.date() == report.day else f"{local:%Y-%m-%d %H:%M}"


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def safe_url(url: str | None) -> str | None:
    """`url` if it is an http(s) link, percent-encoding what could break out of a link."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return quote(url.strip(), safe=":/?#@!$&'*+,;=%~-._")


def who(handle: str | None, name: str | None) -> str:
    if name and handle:
        return f"{name} (@{handle})"
    return name or (f"@{handle}" if handle else "an unknown author")


def summary_lines(report: DayReport) -> list[str]:
    """The digest in a few plain lines (the webhook's text): per claim the day's variants with
    their change, new variants and corrections; then the sources that are not healthy."""
    lines = []
    for topic in report.topics:
        lines.append(
            f"{topic.title}: {posts(topic.posts)} "
            f"({change(topic.posts, topic.posts_before)} from the day before)"
        )
        for claim in topic.claims:
            lines.append(
                f"{claim.title}: {_claim_summary(claim)} {report.claim_link(claim.claim_id)}"
            )
    troubled = [s for s in report.sources if not s.healthy and (s.enabled or s.runs)]
    if troubled:
        lines.append("Sources: " + "; ".join(f"{s.source}: {s.verdict}" for s in troubled))
    elif report.sources:
        lines.append("Sources: all ok")
    return lines


def _claim_summary(claim: ClaimDay) -> str:
    parts = [
        f"{v.label}: {posts(v.posts)} ({change(v.posts, v.posts_before)})"
        + (" NEW" if v.is_new and v.variant is not None else "")
        for v in claim.variants
        if v.posts or v.posts_before
    ]
    text = ", ".join(parts) if parts else "no posts"
    if claim.corrections_total:
        every = claim.corrections_total == len(claim.corrections)  # all listed: name them all
        named = [
            f"{c.kind} by {who(c.author_handle, c.author_name)} on {c.source}"
            for c in claim.corrections
            if every or c.kind != "community"
        ]
        community = claim.correction_counts.get("community", 0)
        if community and not every:
            named.append(f"{number(community)} community")
        text += f"; {corrections_count(claim.corrections_total)}: {', '.join(named)}"
    return text + "."


def corrections_count(total: int) -> str:
    return "1 correction" if total == 1 else f"{number(total)} corrections"


def corrections_heading(claim: ClaimDay) -> str:
    """ "Corrections published on this day: 3 (1 authority, 2 community)", and which are listed."""
    kinds = ", ".join(f"{number(n)} {kind}" for kind, n in claim.correction_counts.items())
    text = f"Corrections published on this day: {number(claim.corrections_total)} ({kinds})"
    if claim.corrections_total > len(claim.corrections):
        text += (
            f"; the {len(claim.corrections)} listed are the authorities' and fact-checkers' "
            "first, then the earliest"
        )
    return text + ":"


# --- Markdown ------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#~!])")
_SPACES = re.compile(r"\s+")


def md(text: str) -> str:
    """Text from the data, safe in Markdown: no markup, no HTML, on one line."""
    flat = _SPACES.sub(" ", str(text))
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", flat)


def md_link(label: str, url: str | None) -> str:
    link = safe_url(url)
    return f"[{md(label)}]({link})" if link else md(label)


def md_table(header: list[str], rows: Iterable[list[str]], right: int = 1) -> list[str]:
    """`right`: from this column on, numbers, aligned right."""
    align = ["---" if i < right else "--:" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def markdown(report: DayReport, *, chart_src: str) -> str:
    start, end = report.local(report.start), report.local(report.end)
    lines = [
        f"# {title(report)}",
        "",
        f"Posts published from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} {report.timezone} "
        f"({report.start:%Y-%m-%d %H:%M} to {report.end:%Y-%m-%d %H:%M} UTC), each figure with its "
        f"change from the day before. Written {report.local(report.generated_at):%Y-%m-%d %H:%M}.",
        "",
        *([f"**{md(note)}**", ""] if (note := revision_note(report)) else []),
        SUMMARY_START,
        *(f"- {md_summary}" for md_summary in _md_summary(report)),
        SUMMARY_END,
        "",
        f"![{md(_chart_alt(report))}]({chart_src})",
        "",
    ]
    for topic in report.topics:
        lines += _md_topic(report, topic)
    lines += _md_sources(report)
    return "\n".join(lines) + "\n"


def _md_summary(report: DayReport) -> list[str]:
    return [_md_line_with_links(line) for line in summary_lines(report)]


_LINK_IN_LINE = re.compile(r"(https?://\S+)")


def _md_line_with_links(line: str) -> str:
    pieces = _LINK_IN_LINE.split(line)
    return "".join(
        f"<{safe_url(piece)}>" if i % 2 else md(piece) for i, piece in enumerate(pieces)
    ).strip()


def _md_topic(report: DayReport, topic: TopicDay) -> list[str]:
    lines = [
        f"## {md(topic.title)}",
        "",
        f"{posts(topic.posts)} mentioned its claims ({number(topic.posts_before)} the "
        f"day before, {change(topic.posts, topic.posts_before)}).",
        "",
    ]
    for claim in topic.claims:
        lines += _md_claim(report, claim)
    lines += ["### Top posts of the day", ""]
    lines += [_md_post(report, i, post) for i, post in enumerate(topic.top_posts, 1)] or [
        "No posts mentioned its claims on this day."
    ]
    lines += ["", "### Top spreaders of the day", ""]
    if topic.spreaders:
        lines += md_table(
            ["author", "sources", "posts", "reach", "variants"],
            (
                [
                    md(who(s.author_handle, s.author_name)),
                    md(s.sources),
                    number(s.posts),
                    number(s.reach),
                    md(", ".join(s.variants) or "-"),
                ]
                for s in topic.spreaders
            ),
            right=2,
        )
    else:
        lines.append("Nobody spread its claims on this day.")
    return [*lines, ""]


def _md_claim(report: DayReport, claim: ClaimDay) -> list[str]:
    lines = [f"### {md(claim.title)}", ""]
    if claim.verified:
        lines += [f"Verified: {md(claim.verified)}", ""]
    lines += [
        f"{posts(claim.posts)} ({change(claim.posts, claim.posts_before)}). "
        f"{md_link('Claim page', report.claim_link(claim.claim_id))}.",
        "",
    ]
    if claim.variants:
        lines += md_table(
            ["variant", "posts", "change", "authors", "change", "reach", "first seen"],
            (
                [
                    md_link(v.label + (" (new)" if v.is_new and v.variant else ""),
                            report.posts_link(claim.claim_id, v.variant)),
                    number(v.posts),
                    change(v.posts, v.posts_before),
                    number(v.authors),
                    change(v.authors, v.authors_before),
                    number(v.reach),
                    clock(report, v.first_seen) if v.first_seen else "-",
                ]
                for v in claim.variants
            ),
        )  # fmt: skip
        lines.append("")
    new = claim.new_variants
    if new:
        names = ", ".join(
            f"**{md(v.label)}** (first seen {clock(report, v.first_seen)}, {posts(v.posts)})"
            for v in new
            if v.first_seen
        )
        lines += [f"New variants on this day: {names}.", ""]
    lines += _md_corrections(report, claim)
    return lines


def _md_corrections(report: DayReport, claim: ClaimDay) -> list[str]:
    if not claim.corrections:
        return ["No correction of this claim was published on this day.", ""]
    lines = [md(corrections_heading(claim)), ""]
    lines += [f"- {_md_correction(report, c)}" for c in claim.corrections]
    lines.append("")
    if claim.around_first_correction and claim.first_correction_at:
        lines += [
            "Spread on this day before and after the first correction "
            f"({clock(report, claim.first_correction_at)}):",
            "",
        ]
        lines += md_table(
            ["variant", "posts before", "per hour", "posts after", "per hour"],
            (
                [
                    md(s.label),
                    number(s.posts_before),
                    rate(s.rate_before),
                    number(s.posts_after),
                    rate(s.rate_after),
                ]
                for s in claim.around_first_correction
            ),
        )
        lines.append("")
    return lines


def _md_correction(report: DayReport, c: CorrectionOfDay) -> str:
    supports = f", supports {md(c.variant)}" if c.variant else ""
    return (
        f"{clock(report, c.created_at)}: {c.kind} correction by "
        f"**{md(who(c.author_handle, c.author_name))}** on {md(c.source)}{supports}: "
        f"\u201c{md(excerpt(c.text))}\u201d {md_link('link', c.url)}"
    )


def _md_post(report: DayReport, rank: int, post: TopPost) -> str:
    mentions = ", ".join(
        f"{claim_id} {variant}" if variant else claim_id for claim_id, variant in post.mentions
    )
    return (
        f"{rank}. **{md(who(post.author_handle, post.author_name))}** on {md(post.source)}, "
        f"{clock(report, post.created_at)}, reach {number(post.reach)} ({md(mentions)}): "
        f"\u201c{md(excerpt(post.text))}\u201d {md_link('link', post.url)}"
    )


def _md_sources(report: DayReport) -> list[str]:
    lines = ["## Sources", ""]
    if not report.sources:
        return [*lines, "No source is enabled and none ran on this day.", ""]
    lines += md_table(
        ["source", "health", "runs", "ok", "partial", "failed", "fetched", "new", "next run"],
        (_source_cells(report, s, md) for s in report.sources),
        right=2,
    )
    return [*lines, ""]


def _source_cells(report: DayReport, s: SourceHealth, escape: _Escape) -> list[str]:
    verdict = escape(s.verdict)
    if s.backing_off:
        verdict += escape(" (backing off)")
    next_run = clock(report, s.next_run_at) if s.next_run_at else "-"
    return [
        escape(s.source),
        verdict,
        number(s.runs),
        number(s.ok),
        number(s.partial),
        number(s.failed),
        number(s.fetched),
        number(s.new),
        next_run,
    ]


# --- HTML ----------------------------------------------------------------------------------------

_STYLE = """
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       color: #1f2328; max-width: 60rem; margin: 1rem auto; padding: 0 1rem; line-height: 1.45; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #d0d7de; padding: 0.25rem 0.6rem; }
th { background: #f6f8fa; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.new { color: #9a6700; font-weight: 600; }
.bad { color: #cf222e; font-weight: 600; }
.muted { color: #656d76; }
blockquote { margin: 0.2rem 0 0.6rem; padding-left: 0.8rem; border-left: 3px solid #d0d7de; }
"""


def h(text: object) -> str:
    return html_lib.escape(str(text), quote=True)


def h_link(label: str, url: str | None) -> str:
    link = safe_url(url)
    return f'<a href="{h(link)}">{h(label)}</a>' if link else h(label)


def _h_table(header: list[str], rows: Iterable[list[str]], right: int = 1) -> str:
    head = "".join(f"<th>{h(c)}</th>" for c in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{cell}</td>' if i >= right else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html(report: DayReport, *, chart_src: str) -> str:
    start, end = report.local(report.start), report.local(report.end)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{h(title(report))}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{h(title(report))}</h1>",
        f'<p class="muted">Posts published from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} '
        f"{h(report.timezone)} ({report.start:%Y-%m-%d %H:%M} to {report.end:%Y-%m-%d %H:%M} "
        "UTC), each figure with its change from the day before. Written "
        f"{report.local(report.generated_at):%Y-%m-%d %H:%M}.</p>",
        *([f"<p><strong>{h(note)}</strong></p>"] if (note := revision_note(report)) else []),
        "<ul>"
        + "".join(f"<li>{_h_line_with_links(line)}</li>" for line in summary_lines(report))
        + "</ul>",
        f'<p><img src="{h(chart_src)}" alt="{h(_chart_alt(report))}" style="max-width: 100%"></p>',
    ]
    for topic in report.topics:
        parts.append(_h_topic(report, topic))
    parts.append(_h_sources(report))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _chart_alt(report: DayReport) -> str:
    return f"Posts per hour of each variant, {long_day(report.day)}"


def _h_line_with_links(line: str) -> str:
    pieces = _LINK_IN_LINE.split(line)
    return "".join(
        h_link("link", piece) if i % 2 else h(piece) for i, piece in enumerate(pieces)
    ).strip()


def _h_topic(report: DayReport, topic: TopicDay) -> str:
    parts = [
        f"<h2>{h(topic.title)}</h2>",
        f"<p>{posts(topic.posts)} mentioned its claims ({number(topic.posts_before)} the "
        f"day before, {change(topic.posts, topic.posts_before)}).</p>",
    ]
    parts += [_h_claim(report, claim) for claim in topic.claims]
    parts.append("<h3>Top posts of the day</h3>")
    if topic.top_posts:
        parts.append("<ol>" + "".join(_h_post(report, p) for p in topic.top_posts) + "</ol>")
    else:
        parts.append("<p>No posts mentioned its claims on this day.</p>")
    parts.append("<h3>Top spreaders of the day</h3>")
    if topic.spreaders:
        parts.append(
            _h_table(
                ["author", "sources", "posts", "reach", "variants"],
                (
                    [
                        h(who(s.author_handle, s.author_name)),
                        h(s.sources),
                        number(s.posts),
                        number(s.reach),
                        h(", ".join(s.variants) or "-"),
                    ]
                    for s in topic.spreaders
                ),
                right=2,
            )
        )
    else:
        parts.append("<p>Nobody spread its claims on this day.</p>")
    return "\n".join(parts)


def _h_claim(report: DayReport, claim: ClaimDay) -> str:
    parts = [f"<h3>{h(claim.title)}</h3>"]
    if claim.verified:
        parts.append(f'<p class="muted">Verified: {h(claim.verified)}</p>')
    parts.append(
        f"<p>{posts(claim.posts)} ({change(claim.posts, claim.posts_before)}). "
        f"{h_link('Claim page', report.claim_link(claim.claim_id))}.</p>"
    )
    if claim.variants:
        parts.append(
            _h_table(
                ["variant", "posts", "change", "authors", "change", "reach", "first seen"],
                (
                    [
                        h_link(v.label, report.posts_link(claim.claim_id, v.variant))
                        + (' <span class="new">new</span>' if v.is_new and v.variant else ""),
                        number(v.posts),
                        change(v.posts, v.posts_before),
                        number(v.authors),
                        change(v.authors, v.authors_before),
                        number(v.reach),
                        h(clock(report, v.first_seen)) if v.first_seen else "-",
                    ]
                    for v in claim.variants
                ),
            )
        )
    new = [v for v in claim.new_variants if v.first_seen]
    if new:
        names = ", ".join(
            f'<span class="new">{h(v.label)}</span> (first seen {h(clock(report, v.first_seen))}, '
            f"{posts(v.posts)})"
            for v in new
            if v.first_seen
        )
        parts.append(f"<p>New variants on this day: {names}.</p>")
    if not claim.corrections:
        parts.append("<p>No correction of this claim was published on this day.</p>")
        return "\n".join(parts)
    parts.append(f"<p>{h(corrections_heading(claim))}</p><ul>")
    for c in claim.corrections:
        supports = f", supports {h(c.variant)}" if c.variant else ""
        parts.append(
            f"<li>{h(clock(report, c.created_at))}: {h(c.kind)} correction by "
            f"<strong>{h(who(c.author_handle, c.author_name))}</strong> on {h(c.source)}"
            f"{supports} {h_link('link', c.url)}<blockquote>{h(excerpt(c.text))}</blockquote></li>"
        )
    parts.append("</ul>")
    if claim.around_first_correction and claim.first_correction_at:
        parts.append(
            "<p>Spread on this day before and after the first correction "
            f"({h(clock(report, claim.first_correction_at))}):</p>"
        )
        parts.append(
            _h_table(
                ["variant", "posts before", "per hour", "posts after", "per hour"],
                (
                    [
                        h(s.label),
                        number(s.posts_before),
                        rate(s.rate_before),
                        number(s.posts_after),
                        rate(s.rate_after),
                    ]
                    for s in claim.around_first_correction
                ),
            )
        )
    return "\n".join(parts)


def _h_post(report: DayReport, post: TopPost) -> str:
    mentions = ", ".join(
        f"{claim_id} {variant}" if variant else claim_id for claim_id, variant in post.mentions
    )
    return (
        f"<li><strong>{h(who(post.author_handle, post.author_name))}</strong> on {h(post.source)}, "
        f"{h(clock(report, post.created_at))}, reach {number(post.reach)} ({h(mentions)}) "
        f"{h_link('link', post.url)}<blockquote>{h(excerpt(post.text))}</blockquote></li>"
    )


def _h_sources(report: DayReport) -> str:
    if not report.sources:
        return "<h2>Sources</h2><p>No source is enabled and none ran on this day.</p>"
    rows = []
    for s in report.sources:
        cells = _source_cells(report, s, h)
        if (s.runs == 0 and s.enabled) or s.failed:
            cells[1] = f'<span class="bad">{cells[1]}</span>'
        rows.append(cells)
    header = ["source", "health", "runs", "ok", "partial", "failed", "fetched", "new", "next run"]
    return "<h2>Sources</h2>" + _h_table(header, rows, right=2)
