"""The `claimwatch` command line (DESIGN.md, "The interfaces users rely on")."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import duckdb
import typer
from rich.console import Console
from rich.logging import RichHandler

from claims.evaluate import evaluate, print_report, read_set
from claims.job import UnknownClaimError, analyze_warehouse
from claimwatch import output
from claimwatch.importer import import_file
from claimwatch.records import FORMATS, ImportFileError, detect_format
from claimwatch.scheduler import FAILED, Scheduler, stopping_on_signals
from claimwatch.services import dashboard_beside
from claimwatch.validate import Limits
from collectors.collect import chosen, collect
from config import (
    DEFAULT_TIMEZONE,
    Config,
    ConfigError,
    RedactingFilter,
    Redactor,
    load_config,
    render_effective,
)
from config import Warehouse as WarehouseSettings
from digest.publish import describe, write_digest
from warehouse import SchemaTooNewError, Warehouse, WarehouseError
from warehouse.adhoc import QueryTimeoutError, RefusedQueryError, run_query, streaming_query

DEFAULT_DB = Path("data/claimwatch.duckdb")
DEFAULT_CONFIG = Path("config/claimwatch.toml")

app = typer.Typer(
    help="Watch a claim spread across social media and news, and watch it get corrected.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
config_app = typer.Typer(
    help="Inspect the configuration.", no_args_is_help=True, rich_markup_mode=None
)
db_app = typer.Typer(
    help="Inspect and maintain the warehouse file.", no_args_is_help=True, rich_markup_mode=None
)
claims_app = typer.Typer(
    help="Set up claims: draft one from a sentence.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(config_app, name="config")
app.add_typer(claims_app, name="claims")
app.add_typer(db_app, name="db")

out = Console()
err = Console(stderr=True)
# Every secret of the config in use, masked in every log line (the HTTP client's too).
SECRETS = Redactor()


@dataclass
class Context:
    db: Path
    config_path: Path
    config_given: bool
    _config: Config | None = None

    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
            SECRETS.add(self._config.secrets())
        return self._config

    def settings(self) -> WarehouseSettings:
        """The [warehouse] settings: their defaults when no config file exists."""
        if self.config_given or self.config_path.exists():
            return self.config().warehouse
        return WarehouseSettings()

    def warehouse(self) -> Warehouse:
        settings = self.settings()
        return Warehouse(
            self.db,
            lock_timeout=settings.lock_timeout.total_seconds(),
            read_timeout=settings.read_timeout.total_seconds(),
            on_wait=_say_waiting,
        )

    def limits(self) -> Limits:
        """The import's limits; a date without a time is read in `[schedule] timezone`."""
        has_config = self.config_given or self.config_path.exists()
        zone = self.config().schedule.timezone if has_config else DEFAULT_TIMEZONE
        return Limits(max_text_bytes=self.settings().max_text_bytes, date_zone=zone)


def _say_plain(line: str) -> None:
    err.print(line, markup=False, highlight=False, soft_wrap=True)


def _say_waiting(holder: str | None) -> None:
    err.print(f"[dim]waiting for the warehouse, held by {holder or 'another process'}…[/]")


@app.callback()
def main_options(
    ctx: typer.Context,
    db: Annotated[
        Path | None,
        typer.Option(help=f"Warehouse file [env CLAIMWATCH_DB; default {DEFAULT_DB}]."),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", help=f"Config file [env CLAIMWATCH_CONFIG; default {DEFAULT_CONFIG}]."
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log more.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[_log_handler()],
    )
    env_config = os.environ.get("CLAIMWATCH_CONFIG")
    ctx.obj = Context(
        db=db or Path(os.environ.get("CLAIMWATCH_DB") or DEFAULT_DB),
        config_path=config or Path(env_config or DEFAULT_CONFIG),
        config_given=bool(config or env_config),
    )


def _log_handler() -> logging.Handler:
    handler = RichHandler(console=err, show_path=False, log_time_format="%Y-%m-%dT%H:%M:%S")
    handler.addFilter(RedactingFilter(SECRETS))
    return handler


@config_app.command("check")
def config_check(ctx: typer.Context) -> None:
    """Validate the config and print it in effect, defaults filled in and secrets masked."""
    context: Context = ctx.obj
    out.print(render_effective(context.config()), markup=False, highlight=False, soft_wrap=True)
    err.print(f"[green]{context.config_path}: valid[/]")


@claims_app.command("draft")
def claims_draft(
    sentence: Annotated[str, typer.Argument(help="The claim as one sentence, with its number.")],
    topic: Annotated[str, typer.Option(help="The topic the claim goes in.")] = "my-topic",
    claim_id: Annotated[str, typer.Option("--id", help="The claim's id.")] = "my-claim",
    lang: Annotated[str, typer.Option(help="The sentence's language.")] = "en",
) -> None:
    """Print a commented TOML starter for a claim, its quantity (kind, value, currency) read from
    SENTENCE, e.g. "Canada deployed 10,000 personnel to the border"."""
    from claims.draft import draft_claim

    try:
        out.print(
            draft_claim(sentence, topic, claim_id, lang),
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    except ValueError as error:
        err.print(f"[red]{error}[/]")
        raise typer.Exit(2) from None


@app.command("import")
def import_command(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="A .jsonl, .csv or .parquet file of posts (.jsonl.gz and .csv.gz too)."
        ),
    ],
    fmt: Annotated[
        str | None,
        typer.Option("--format", help=f"One of {', '.join(FORMATS)}; default: from the extension."),
    ] = None,
    rejects: Annotated[
        Path | None,
        typer.Option(help="Also write every rejected row (line, reason, excerpt) to this CSV."),
    ] = None,
    show: Annotated[int, typer.Option(help="How many rejected rows to list on screen.")] = 20,
) -> None:
    """Load posts from JSON Lines, CSV or Parquet. Required fields: source, source_id,
    created_at (ISO 8601), text; the other Post fields are optional. Bad rows are reported by line
    with the reason; good rows still load. Exit status: 0 all loaded, 1 some rows rejected,
    2 nothing could be read."""
    context: Context = ctx.obj
    chosen = detect_format(file, fmt)
    with output.file_progress(err, file) as advance:
        report = import_file(
            file, context.warehouse(), chosen, limits=context.limits(), progress=advance
        )
    output.print_import_report(out, err, report, show=show)
    if rejects:
        output.write_rejects(rejects, report.rejections)
    raise typer.Exit(1 if report.rejections else 0)


@app.command("sql")
def sql_command(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="One or more SELECT statements over the views.")],
    fmt: Annotated[
        output.Format, typer.Option("--format", help="How to print the result.")
    ] = output.Format.table,
    max_rows: Annotated[
        int | None,
        typer.Option(help="Stop after this many rows [default: 1000 for table, all otherwise]."),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Stop the query after this many seconds.")] = 300,
) -> None:
    """Run read-only SQL over the documented views (posts, post_topics, claim_mentions,
    corrections, variant_spread, variant_summary, collector_runs). Writes, ATTACH, COPY and file
    access are refused."""
    context: Context = ctx.obj
    if fmt is output.Format.table:
        limit = 1000 if max_rows is None else max_rows
        result = run_query(context.warehouse(), query, max_rows=limit, timeout=timeout)
        output.print_table(out, err, result)
        return
    with streaming_query(context.warehouse(), query, max_rows=max_rows, timeout=timeout) as rows:
        try:
            output.write_stream(out, err, rows, fmt)
        except BrokenPipeError:
            # the reader left (`| head`): quietly, and without a second error when Python
            # flushes stdout on exit (the recipe of the signal module's docs)
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(1) from None
        except OSError as error:  # a full disk, a closed file: the output is cut, so say so
            output.print_error(err, f"the result could not be written whole: {error}")
            raise typer.Exit(2) from None


@app.command("collect")
def collect_command(
    ctx: typer.Context,
    source: Annotated[
        list[str] | None, typer.Option("--source", help="Only this source (repeatable).")
    ] = None,
    topic: Annotated[
        list[str] | None, typer.Option("--topic", help="Only this topic (repeatable).")
    ] = None,
) -> None:
    """One collection pass over the enabled sources (or --source) for every topic (or --topic),
    with progress per source and a summary. Exit status 1 if a source failed."""
    context: Context = ctx.obj
    config = context.config()
    try:
        sources, topics = chosen(config, source or [], topic or [])
    except KeyError as error:
        raise typer.BadParameter(str(error.args[0])) from None
    with output.collect_progress(err, sources) as on_page:
        summaries = asyncio.run(collect(config, context.warehouse(), sources, topics, on_page))
    output.print_collect_summary(out, summaries)
    raise typer.Exit(1 if any(s.status == "failed" for s in summaries) else 0)


@app.command("run")
def run_command(
    ctx: typer.Context,
    once: Annotated[
        bool, typer.Option("--once", help="Run one full cycle, print a summary and exit.")
    ] = False,
    dashboard: Annotated[
        bool,
        typer.Option(
            "--dashboard/--no-dashboard", help="Serve the dashboard beside the scheduler."
        ),
    ] = True,
    port: Annotated[
        int | None,
        typer.Option(
            envvar="CLAIMWATCH_DASHBOARD_PORT",
            help="Dashboard port [env CLAIMWATCH_DASHBOARD_PORT; default: [dashboard] port].",
        ),
    ] = None,
) -> None:
    """The scheduler: every enabled source collected on its interval, the analysis after each
    batch of new posts, alerts, and the daily digest at its time, until Ctrl-C or SIGTERM (which
    finish the batch in hand first). The dashboard runs beside it unless --no-dashboard. A failing
    source backs off and is shown as failing; the others go on. --once: one cycle (without the
    dashboard), a summary, exit status 0, or 1 when every source failed."""
    context: Context = ctx.obj
    config = served_on_port(context.config(), port)
    logging.getLogger("claimwatch.scheduler").setLevel(logging.INFO)
    if once:
        report = Scheduler(config, context.warehouse(), mode="once").run_once()
        output.print_cycle_report(out, report)
        failed = all(r.status in FAILED for r in report.runs)
        raise typer.Exit(1 if report.runs and failed else 0)
    scheduler = Scheduler(config, context.warehouse(), mode="run")
    scheduler.take_lease()  # before the dashboard: a second scheduler is refused at once
    stop = threading.Event()
    # from the start, so that Ctrl-C while the dashboard starts (or a copy of the signal
    # forwarded by `uv run` as the scheduler ends) also ends in a clean stop
    with stopping_on_signals(stop):
        if not dashboard:
            scheduler.run(stop)
            return
        address = config.dashboard.address
        log_path = context.db.parent / "dashboard.log"
        served_on = config.dashboard.port
        with dashboard_beside(
            context.db, context.config_path, address, served_on, log_path, stop
        ) as process:
            if process is not None:
                _say_plain(f"dashboard: http://{address}:{served_on} (its log: {log_path})")
            scheduler.run(stop)


def served_on_port(config: Config, port: int | None) -> Config:
    """The config with the port the dashboard is served on (`--port`), so that the links of
    digests and alerts point at it when no `[dashboard] public_url` is set."""
    if port is None:
        return config
    dashboard = config.dashboard.model_copy(update={"port": port})
    return config.model_copy(update={"dashboard": dashboard})


@app.command("demo")
def demo_command(
    ctx: typer.Context,
    demo_db: Annotated[
        Path,
        typer.Option(
            "--db",
            help="The demo's own warehouse, removed and made afresh (never the main one).",
        ),
    ] = Path("data/demo.duckdb"),
    speed: Annotated[
        float | None,
        typer.Option(
            min=1.0,
            help="Simulated seconds per real second [default: the story in about 60 s].",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the generated traffic.")] = 2026,
    dashboard: Annotated[
        bool, typer.Option("--dashboard/--no-dashboard", help="Serve the dashboard beside it.")
    ] = True,
    exit_when_done: Annotated[
        bool,
        typer.Option(
            "--exit-when-done",
            help="Stop once the story is over and its last digest (2026-01-30) is written.",
        ),
    ] = False,
    port: Annotated[
        int | None, typer.Option(help="Dashboard port [default: [dashboard] port].")
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(help="Give up after this many seconds (exit status 1).", show_default=False),
    ] = None,
) -> None:
    """The whole story offline: a local server speaking the sources' APIs serves the real posts
    of late January 2026 and generated traffic around them on an accelerated clock; the scheduler
    collects, analyses and writes the digests into a fresh warehouse while the dashboard shows it.
    Every post is marked real or generated (view post_provenance). Ctrl-C stops it."""
    from claimwatch.demo.run import DemoOptions, default_speed, print_summary, run_demo

    context: Context = ctx.obj
    options = DemoOptions(
        db=demo_db,
        config=context.config_path,
        speed=speed or default_speed(),
        seed=seed,
        dashboard=dashboard,
        exit_when_done=exit_when_done,
        port=port,
        timeout_s=timeout,
    )
    try:
        summary = run_demo(options, say=_say_plain, main_db=context.db)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--db") from None
    print_summary(summary, out)
    raise typer.Exit(0 if summary.done or not exit_when_done else 1)


@app.command("analyze")
def analyze_command(
    ctx: typer.Context,
    full: Annotated[
        bool,
        typer.Option("--full", help="Analyse every post again, not only those not analysed yet."),
    ] = False,
    claim: Annotated[
        list[str] | None,
        typer.Option(
            "--claim",
            metavar="ID",
            help="Only this claim, by its id in the config (repeatable).",
        ),
    ] = None,
) -> None:
    """Find the claims' mentions, variants, stances and corrections in the posts, incrementally:
    only posts not analysed yet by the current definition of each claim (all posts of a claim
    that is new or whose definition changed; --full for every post), with a progress bar and a
    summary per claim. The results are in the claim_mentions, corrections, variant_spread and
    variant_summary views."""
    context: Context = ctx.obj
    try:
        with output.analysis_progress(err) as advance:
            report = analyze_warehouse(
                context.warehouse(),
                context.config(),
                full=full,
                claim_ids=claim or None,
                progress=advance,
            )
    except UnknownClaimError as error:
        raise typer.BadParameter(str(error), param_hint="--claim") from None
    output.print_analysis_report(out, report)


EVAL_SETS = [Path("tests/eval/claims.jsonl")]


@app.command("evaluate")
def evaluate_command(
    ctx: typer.Context,
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Labelled sets, JSON Lines in the format of tests/eval/README.md "
            "[default: tests/eval/claims.jsonl].",
            show_default=False,
        ),
    ] = None,
    mistakes: Annotated[
        bool, typer.Option("--mistakes", help="List every disagreement with the labels.")
    ] = False,
) -> None:
    """Run the claim analysis of the config over labelled posts and print mention precision and
    recall, variant, stance and correction-kind accuracy against their targets, and the stance
    confusion matrix. Exit status 1 when a target is missed. The warehouse is not used."""
    context: Context = ctx.obj
    paths = files or EVAL_SETS
    try:
        rows = read_set(paths)
    except (OSError, ValueError) as error:
        raise typer.BadParameter(f"cannot read the labelled set: {error}") from None
    report = evaluate(rows, context.config())
    print_report(out, report, show_mistakes=mistakes)
    if not report.meets_targets():
        raise typer.Exit(1)


@app.command("digest")
def digest_command(
    ctx: typer.Context,
    day: Annotated[
        str | None,
        typer.Option(
            "--date",
            metavar="YYYY-MM-DD",
            help="The local day ([digest] timezone) [default: yesterday].",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Write again a digest already delivered (not sent again)."),
    ] = False,
    send: Annotated[
        bool, typer.Option("--deliver/--no-deliver", help="Deliver by mail and webhook.")
    ] = True,
) -> None:
    """Write the daily digest of a day (Markdown and HTML with its chart, in [digest] output_dir)
    and deliver it by mail and webhook where configured; a channel that delivered it never gets
    it again. Exit status: 0 written and delivered, 1 a delivery failed, 2 it cannot run."""
    context: Context = ctx.obj
    config = context.config()
    zone = config.digest.zone
    today = datetime.now(zone).date()
    try:
        chosen_day = date.fromisoformat(day) if day else today - timedelta(days=1)
    except ValueError:
        raise typer.BadParameter(f"expected a day as YYYY-MM-DD; found {day!r}") from None
    if chosen_day > today:
        raise typer.BadParameter(
            f"{chosen_day} is in the future in {zone.key}", param_hint="--date"
        )
    if chosen_day == today:
        err.print(f"[yellow]{chosen_day} is not over yet in {zone.key}: the digest is partial[/]")
    try:
        result = write_digest(config, context.warehouse(), chosen_day, force=force, deliver=send)
    except OSError as error:
        _fail(f"cannot write the digest of {chosen_day}: {error}")
        return
    for line in describe(result, delivery_wanted=send):
        out.print(line, markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(1 if result.failed else 0)


@app.command("dashboard")
def dashboard_command(
    ctx: typer.Context,
    port: Annotated[
        int | None, typer.Option(help="Port to serve on [default: [dashboard] port, 8501].")
    ] = None,
    address: Annotated[
        str | None,
        typer.Option(help="Address to listen on [default: [dashboard] address, 127.0.0.1]."),
    ] = None,
) -> None:
    """Serve the Streamlit dashboard (overview, claim, posts, spread paths, sources, SQL) for
    the warehouse and config in use, until Ctrl-C. It reads while the scheduler writes."""
    from dashboard.launch import serve_in_foreground, streamlit_command

    context: Context = ctx.obj
    settings = context.config().dashboard
    host, chosen_port = address or settings.address, port or settings.port
    db, config_path = context.db.resolve(), context.config_path.resolve()
    env = {**os.environ, "CLAIMWATCH_DB": str(db), "CLAIMWATCH_CONFIG": str(config_path)}
    err.print(f"dashboard: http://{host}:{chosen_port} (warehouse {db}); Ctrl-C stops it")
    # SIGINT or SIGTERM to this process (not only to its group) stops the server too
    command = streamlit_command(db, config_path, host, chosen_port)
    raise typer.Exit(serve_in_foreground(command, env))


@db_app.command("status")
def db_status(ctx: typer.Context) -> None:
    """Where the warehouse is, its schema version, what it holds, and batches waiting to merge."""
    context: Context = ctx.obj
    output.print_status(out, context.warehouse())


@db_app.command("flush")
def db_flush(ctx: typer.Context) -> None:
    """Merge batches that were staged while another process held the warehouse."""
    context: Context = ctx.obj
    merged, stats = context.warehouse().flush()
    out.print(f"merged {merged} staged batch(es): {stats.new} new posts, {stats.updated} updated")


def main() -> None:
    """Entry point: turn known failures into one clear line and exit status 2."""
    try:
        app()
    except (
        ConfigError,
        WarehouseError,
        SchemaTooNewError,
        ImportFileError,
        RefusedQueryError,
        QueryTimeoutError,
    ) as error:
        _fail(str(error))
    except duckdb.Error as error:
        _fail(f"DuckDB: {error}")


def _fail(message: str) -> None:
    output.print_error(err, message)
    sys.exit(2)


if __name__ == "__main__":
    main()
