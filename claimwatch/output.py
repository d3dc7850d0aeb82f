"""What the command line shows: progress, reports, query results, status. Data is never markup."""

from __future__ import annotations

import csv
import enum
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pyarrow as pa
from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.table import Table
from rich.text import Text

from claims.job import AnalysisReport
from claimwatch.importer import ImportReport
from claimwatch.records import Rejection
from collectors.runner import RunSummary
from warehouse import Warehouse
from warehouse.adhoc import QueryResult, QueryStream
from warehouse.status import warehouse_status

if TYPE_CHECKING:
    from claimwatch.scheduler import CycleReport

_CELL_CHARS = 80


class Format(enum.StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def print_error(console: Console, message: str) -> None:
    console.print(Text.assemble(("error: ", "bold red"), message), soft_wrap=True)


@contextmanager
def file_progress(console: Console, path: Path) -> Iterator[Callable[[int], None]]:
    """A progress bar over the bytes of `path`; yields the function that moves it."""
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(f"importing {path.name}", total=path.stat().st_size)
        yield lambda done: progress.update(task, completed=done)


def print_import_report(out: Console, err: Console, report: ImportReport, *, show: int) -> None:
    summary = Table(title=f"import {report.path} ({report.fmt})", show_header=False)
    summary.add_row("rows read", f"{report.rows:,}")
    summary.add_row("new posts", f"{report.stats.new:,}")
    summary.add_row("already stored", f"{report.already_stored:,}")
    summary.add_row("engagement updated", f"{report.stats.updated:,}")
    summary.add_row("rejected", f"{len(report.rejections):,}")
    summary.add_row("run", report.run_id)
    if report.staged:
        summary.add_row(
            "staged",
            f"{report.staged_posts:,} post(s) in {len(report.staged)} batch(es): the warehouse"
            " was busy; they merge on the next write (or `claimwatch db flush`)",
        )
    out.print(summary)
    for rejection in report.rejections[:show]:
        err.print(
            Text.assemble(
                (f"line {rejection.line}: ", "yellow"),
                rejection.reason,
                (f"  {rejection.excerpt}" if rejection.excerpt else "", "dim"),
            )
        )
    hidden = len(report.rejections) - show
    if hidden > 0:
        err.print(f"… and {hidden:,} more rejected rows (--rejects FILE writes them all)")


def write_rejects(path: Path, rejections: list[Rejection]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["line", "reason", "excerpt"])
        writer.writerows((r.line, r.reason, r.excerpt) for r in rejections)


def print_table(out: Console, err: Console, result: QueryResult) -> None:
    out.print(_as_rich_table(result.table))
    if result.truncated:
        err.print(
            f"[yellow]showing the first {result.table.num_rows:,} rows; "
            "--max-rows raises the limit[/]"
        )


def write_stream(out: Console, err: Console, stream: QueryStream, fmt: Format) -> None:
    """CSV or JSON written batch by batch, so a result of any size goes out whole."""
    write = out.file.write
    if fmt is Format.csv:
        _write_csv(write, stream)
    else:
        _write_json(write, stream)
    out.file.flush()
    if stream.truncated:
        err.print(f"[yellow]stopped at {stream.max_rows:,} rows; --max-rows raises the limit[/]")


def _write_csv(write: Callable[[str], object], stream: QueryStream) -> None:
    header = True
    for batch in stream.batches():
        write(_frame(batch).write_csv(include_header=header))
        header = False
    if header:  # no rows: the header alone
        write(_frame(stream.schema.empty_table()).write_csv())


def _write_json(write: Callable[[str], object], stream: QueryStream) -> None:
    write("[")
    separator = ""
    for batch in stream.batches():
        write(separator + _frame(batch).write_json()[1:-1])  # the rows, without the array's []
        separator = ","
    write("]\n")


def _frame(data: pa.RecordBatch | pa.Table) -> pl.DataFrame:
    frame = pl.from_arrow(data)
    assert isinstance(frame, pl.DataFrame)
    return frame


def _as_rich_table(table: pa.Table) -> Table:
    shown = Table(show_lines=False, header_style="bold")
    for field in table.schema:
        numeric = pa.types.is_integer(field.type) or pa.types.is_floating(field.type)
        shown.add_column(Text(field.name), justify="right" if numeric else "left")
    for row in table.to_pylist():
        shown.add_row(*(_cell(value) for value in row.values()))
    return shown


def _cell(value: object) -> Text:
    if value is None:
        return Text("NULL", style="dim")
    text = " ".join(str(value).split())
    if len(text) > _CELL_CHARS:
        text = text[: _CELL_CHARS - 1] + "…"
    return Text(text)


@contextmanager
def collect_progress(
    console: Console, sources: list[str]
) -> Iterator[Callable[[RunSummary], None]]:
    """One line per source, moved on after every page; yields the function that moves it."""
    columns = (
        TextColumn("[bold]{task.description}"),
        TextColumn("{task.fields[done]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        tasks = {s: progress.add_task(s, total=None, done="starting") for s in sources}

        def on_page(run: RunSummary) -> None:
            progress.update(
                tasks[run.source],
                done=(
                    f"{run.topic}: {run.pages} pages, {run.fetched:,} fetched,"
                    f" {run.kept:,} on topic, {run.new:,} new"
                ),
            )

        yield on_page


def print_collect_summary(out: Console, summaries: list[RunSummary]) -> None:
    table = Table(title="collection pass")
    for column in (
        "source",
        "topic",
        "status",
        "fetched",
        "on topic",
        "new",
        "rate limit left",
        "error",
    ):
        table.add_column(
            column, justify="right" if column in ("fetched", "on topic", "new") else "left"
        )
    for run in summaries:
        limit = run.rate_limit
        left = (
            ""
            if limit is None or limit.remaining is None
            else (f"{limit.remaining}/{limit.limit}" if limit.limit else str(limit.remaining))
        )
        style = {"ok": "green", "partial": "yellow", "failed": "red"}.get(run.status, "dim")
        table.add_row(
            run.source,
            run.topic,
            Text(run.status, style=style),
            f"{run.fetched:,}",
            f"{run.kept:,}",
            f"{run.new:,}",
            left,
            Text(run.error or ""),
        )
    out.print(table)


def print_status(out: Console, warehouse: Warehouse) -> None:
    status = warehouse_status(warehouse)
    table = Table(title=f"warehouse {warehouse.path}", show_header=False)
    for key, value in status.items():
        table.add_row(key, value)
    out.print(table)


@contextmanager
def analysis_progress(console: Console) -> Iterator[Callable[[int, int], None]]:
    """A progress bar over the posts an analysis reads; yields the function that moves it."""
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("posts"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("analysing", total=None)
        yield lambda done, total: progress.update(task, completed=done, total=total)


def print_analysis_report(out: Console, report: AnalysisReport) -> None:
    table = Table(title=f"analysis {report.run_id}", box=box.SIMPLE_HEAD, show_edge=False)
    table.add_column("claim", no_wrap=True)
    table.add_column("run")
    for column in ("posts", "mentions", "corrections"):
        table.add_column(column, justify="right")
    for claim in report.claims:
        style = {"full": "cyan", "incremental": "green", "moved": "yellow"}.get(claim.mode, "dim")
        table.add_row(
            Text(claim.claim_id),
            Text(claim.mode, style=style),
            f"{claim.posts_read:,}",
            f"{claim.mentions:,}",
            f"{claim.corrections:,}",
        )
    out.print(table)
    inherited = sum(c.inherited for c in report.claims)
    if inherited:
        out.print(
            f"{inherited:,} of the mentions were inherited by plain reposts from their parent"
        )
    rate = f", {report.posts_read / report.seconds:,.0f} posts/s" if report.posts_read else ""
    out.print(
        f"{report.posts_read:,} posts read in {report.seconds:.2f} s{rate}"
        f" (posts up to seq {report.through:,})"
    )
    for claim in report.claims:
        if claim.mode == "moved":
            out.print(
                Text(
                    f"{claim.claim_id}: another analysis run covered it meanwhile;"
                    " this run wrote nothing for it.",
                    style="yellow",
                )
            )
    if report.removed:
        out.print(
            Text(f"removed the rows of claims no longer in the config: {', '.join(report.removed)}")
        )


def print_cycle_report(out: Console, report: CycleReport) -> None:
    """The summary of `claimwatch run --once`: each source's run, the analysis, alerts, digest."""
    print_collect_summary(out, report.runs)
    for analysis in report.analyses:
        print_analysis_report(out, analysis)
    if not report.analyses:
        out.print("analysis: nothing to analyse")
    out.print(f"alerts raised: {report.alerts}")
    digests = ", ".join(str(day) for day in report.digests) or "none due"
    out.print(f"digest written: {digests}")
    failed = [r for r in report.runs if r.status in ("failed", "not_configured")]
    out.print(
        f"{len(report.runs)} source run(s), {len(failed)} failing, {report.new_posts:,} new post(s)"
    )
    for error in report.errors:
        out.print(Text(f"error: {error}", style="red"))
