"""A claim's corrections grouped for a chart: a few labelled marks, never one per post.

An authority's or a fact-checker's corrections are one mark per (kind, who, bucket), labelled
with who made them (the authority's name from the config, else the post's author name, else its
handle; a fact-check's publisher). The community's are one mark per bucket: how many, and a few
of their handles. The dashboard's Claim chart and the digest's chart both draw these, each with
its own buckets (local hours or days; hours of the digest's day), so the two say the same.

Here rather than in `dashboard/` or `digest/`: both read it, and neither may import the other
(docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import polars as pl

from config import Authority

KINDS = ("authority", "factcheck", "community")  # the order of every short list
HANDLES_SHOWN = 3  # community handles named in a mark, the rest counted
LANES = 3  # rows of labels
LABELLED = 6  # marks labelled at most: authorities first, then fact-checkers; the rest by hover


def authority_names(authorities: Iterable[Authority]) -> pl.DataFrame:
    """The configured authorities' names by source and handle (handles compared lowercase)."""
    rows = [(a.source, a.handle.lower(), a.name) for a in authorities if a.name]
    return pl.DataFrame(
        rows, schema={"source": pl.String, "handle_key": pl.String, "name": pl.String}, orient="row"
    )


def correction_marks(
    corrections: pl.DataFrame,
    bucket: pl.Expr,
    names: pl.DataFrame | None = None,
    *,
    per: Sequence[str] = (),
    lanes: int = LANES,
    labelled: int = LABELLED,
) -> pl.DataFrame:
    """One row per mark of `corrections` (columns kind, author_handle, source, created_at, and
    author_name if known; `per` columns, such as claim_id, make a set of marks each), its bucket
    given by the expression `bucket`: kind, bucket, who, corrections (how many), first_at,
    last_at, sources, label ("who (kind)"), and for an authority's or a fact-checker's mark
    `lane` (0 to lanes - 1, in turn along the time axis: neighbours never share a row of labels)
    and `labelled` (the first `labelled` marks). Authority marks first, then fact-checks, then
    the community's; each kind by bucket."""
    community = pl.col("kind") == "community"
    marks = (
        corrections.with_columns(bucket=bucket, who=_who(corrections, names))
        .with_columns(who=pl.when(community).then(None).otherwise(pl.col("who")))
        .sort("created_at")
        .group_by(*per, "kind", "bucket", "who", maintain_order=True)
        .agg(
            pl.len().cast(pl.Int64).alias("corrections"),
            pl.col("created_at").min().alias("first_at"),
            pl.col("created_at").max().alias("last_at"),
            pl.col("source").unique(maintain_order=True).str.join(", ").alias("sources"),
            pl.col("author_handle").fill_null("?").unique(maintain_order=True).alias("handles"),
        )
        .with_columns(who=pl.when(community).then(_few(pl.col("handles"))).otherwise("who"))
        .with_columns(label=pl.col("who") + " (" + pl.col("kind") + ")")
        .drop("handles")
    )
    order = [*per, _rank(), "bucket", "who"]
    flags = _placed(marks.filter(~community).sort(order), per, lanes, labelled)
    crowd = marks.filter(community).with_columns(
        lane=pl.lit(None, pl.Int64), labelled=pl.lit(False)
    )
    return pl.concat([flags, crowd], how="diagonal").sort(order)


def _placed(flags: pl.DataFrame, per: Sequence[str], lanes: int, labelled: int) -> pl.DataFrame:
    """`flags` (in order of priority) with their row of labels and whether they are labelled."""

    def within(expr: pl.Expr) -> pl.Expr:
        return expr.over(per) if per else expr

    return (
        flags.with_columns(labelled=within(pl.int_range(pl.len())) < labelled)
        .with_row_index("_priority")
        .sort(*per, "bucket", "who")
        .with_columns(lane=(within(pl.int_range(pl.len())) % lanes).cast(pl.Int64))
        .sort("_priority")
        .drop("_priority")
    )


def _who(corrections: pl.DataFrame, names: pl.DataFrame | None) -> pl.Series:
    """Who made each correction: the configured name, the post's author name, its handle."""
    keys = corrections.select("source", handle_key=pl.col("author_handle").str.to_lowercase())
    if names is not None and names.height:
        named = keys.join(names, on=["source", "handle_key"], how="left", maintain_order="left")
    else:
        named = keys.with_columns(name=pl.lit(None, pl.String))
    author_name = ["author_name"] if "author_name" in corrections.columns else []
    both = pl.concat(
        [named.select("name"), corrections.select("author_handle", *author_name)],
        how="horizontal",
    )
    return both.select(
        pl.coalesce("name", *author_name, "author_handle", pl.lit("?")).alias("who")
    ).to_series()


def _few(handles: pl.Expr) -> pl.Expr:
    """'a, b, c and 215 more': the first handles of a community mark, the rest counted."""
    more = handles.list.len().cast(pl.Int64) - HANDLES_SHOWN
    return handles.list.head(HANDLES_SHOWN).list.join(", ") + pl.when(more > 0).then(
        pl.format(" and {} more", more)
    ).otherwise(pl.lit(""))


def _rank() -> pl.Expr:
    return pl.col("kind").replace_strict(
        {kind: i for i, kind in enumerate(KINDS)}, default=len(KINDS), return_dtype=pl.Int32
    )
