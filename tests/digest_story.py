"""A warehouse seeded with the story around 2026-01-29 and 2026-01-30 (America/Toronto days), for
the digest, delivery and alert tests: posts written with `Batch(posts=...)`, analysed by the real
engine (`claims.job.analyze_warehouse`), and collector runs, ok and failed.

The counts below are by construction (the engine gives each text the variant noted; a test checks
it), so the tests can assert them and check them against SQL over the views.

Local day 2026-01-29 = 2026-01-29 05:00Z .. 2026-01-30 05:00Z; 2026-01-30 = 01-30 05:00Z .. 01-31
05:00Z (Toronto is UTC-5 in January).

ice-offices-canada        on 01-29                      on 01-30
  "4"                     6 posts, 4 authors            3 posts, 3 authors
  "5"                     2 posts, 2 authors            10 posts, 8 authors (Daily Hive included)
  "3"                     -                             1 post (new that day)
  no value                -                             1 post (a troll's markup injection)
ice-armed-operations      1 post                        4 posts (embassy and Daily Hive included)

Corrections on 01-30: the U.S. Embassy Ottawa on x at 15:00Z (10:00 local, authority, armed
claim) and the Daily Hive article at 18:00Z (13:00 local, community, both claims; supports "5").
Collector runs on 01-30: mastodon ok x3; reddit failed x3 (all day); news ok then failed; gdelt
and hackernews none (hackernews ran on 01-29).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pyarrow as pa

from claims.job import analyze_warehouse
from config import Config, Webhook, load_config
from warehouse import Batch, RunRecord, Warehouse

SHIPPED = Path(__file__).parents[1] / "config" / "claimwatch.toml"
DAY = date(2026, 1, 30)
DAY_BEFORE = date(2026, 1, 29)
DAY_START = datetime(2026, 1, 30, 5, tzinfo=UTC)  # local midnight of DAY, in UTC
DAY_END = datetime(2026, 1, 31, 5, tzinfo=UTC)
BEFORE_START = datetime(2026, 1, 29, 5, tzinfo=UTC)

EMBASSY_TEXT = (
    "Recent social media posts have speculated on the role of @DHSgov\u2019s Homeland Security "
    "Investigations (HSI) team in Canada.\nLet\u2019s be clear: HSI operates in close partnership "
    "with Canadian law enforcement to combat transnational crime and protect communities on both "
    "sides of the\u2026"
)
DAILY_HIVE_TEXT = (
    "In an email statement to Daily Hive, an ICE spokesperson confirmed that Homeland Security "
    "Investigations (HSI), which is the criminal investigative law enforcement component of ICE, "
    "has personnel assigned to the embassy and consulates in the five Canadian cities listed "
    "above.\nThe ICE spokesperson noted that HSI agents do not carry firearms in Canada, nor do "
    "they \u201cconduct operational activities\u201d in the country, such as making arrests or "
    "executing search warrants."
)


def utc(day: int, hour: float) -> datetime:
    return datetime(2026, 1, day, tzinfo=UTC) + timedelta(hours=hour)


@dataclass(frozen=True)
class P:
    uid: str
    source: str
    author: str
    at: datetime
    text: str
    followers: int | None = None
    likes: int | None = None
    name: str | None = None
    kind: str = "post"
    url: str | None = None


FOUR = "Just learned there are 4 ICE offices in Canada, including Ottawa ({})."
FIVE = "5 ICE stations in Canada: Ottawa, Calgary, Montreal, Toronto, Vancouver. Close them ({})."
ARMED = "ICE agents in Canada are making arrests in Toronto now ({})."
INJECTION = (
    "Close the ICE offices in Canada <script>alert('x')</script> **now** "
    "[click](javascript:void(0)) | # _"
)

STORY: tuple[P, ...] = (
    # before the two days: the real first posts of each variant
    P("carrie", "x", "CarrieCnh12", utc(27, 0),
      "Yep, the Canadian gov\u2019t has allowed the US government to place 4 ICE stations in "
      "Canada, including the national capital and parliamentary seat.", 9000, 40, "Carolyn Hinds"),
    P("cheri", "x", "CheriDiNovo", utc(28, 0),
      "BREAKING: There are 5 #ICE stations Canada!! Whaat? Ottawa, Calgary, Montreal, Vancouver "
      "and Toronto.", 20000, 300, "Cheri DiNovo"),
    # 2026-01-29 (local): "4" x6 by a1 (3), a2, a3, a4; "5" x2 by b1, b2; armed x1
    P("d0-4a", "x", "a1", utc(29, 6), FOUR.format("a"), 100, 1),
    P("d0-4b", "x", "a1", utc(29, 9), FOUR.format("b"), 100, 2),
    P("d0-4c", "x", "a1", utc(29, 12), FOUR.format("c"), 100, 3),
    P("d0-4d", "mastodon", "a2", utc(29, 14), FOUR.format("d"), 50),
    P("d0-4e", "reddit", "a3", utc(29, 18), FOUR.format("e"), None, 12),
    P("d0-4f", "bluesky", "a4", utc(30, 3), FOUR.format("f"), None, 4),  # 22:00 local, 01-29
    P("d0-5a", "x", "b1", utc(29, 10), FIVE.format("a"), 400, 10),
    P("d0-5b", "mastodon", "b2", utc(29, 20), FIVE.format("b"), 30),
    P("d0-armed", "x", "c1", utc(29, 16), ARMED.format("a"), 10),
    # 2026-01-30 (local): "4" x3
    P("d1-4a", "x", "a1", utc(30, 6.5), FOUR.format("g"), 100, 5),
    P("d1-4b", "reddit", "a5", utc(30, 11), FOUR.format("h"), None, 7),
    P("d1-4c", "mastodon", "a6", utc(31, 4.5), FOUR.format("i"), 20),  # 23:30 local, 01-30
    # "5" x9 (+ the Daily Hive article): b1 x2, b3, b4, b5 x2, b6, b7, b8
    P("d1-5a", "x", "b1", utc(30, 7), FIVE.format("c"), 400, 20),
    P("d1-5b", "x", "b1", utc(30, 8), FIVE.format("d"), 400, 15),
    P("d1-5c", "mastodon", "b3", utc(30, 9), "Il y a 5 bureaux de l'ICE au Canada, incroyable",
      80, 3),
    P("d1-5d", "bluesky", "b4", utc(30, 12), FIVE.format("e"), None, 40),
    P("d1-5e", "x", "b5", utc(30, 16), FIVE.format("f"), 50000, 900, "Big Account"),
    P("d1-5f", "x", "b5", utc(30, 17), FIVE.format("g"), 50000, 100, "Big Account"),
    P("d1-5g", "reddit", "b6", utc(30, 19), FIVE.format("h"), None, 25),
    P("d1-5h", "mastodon", "b7", utc(30, 21), FIVE.format("i"), 60),
    P("d1-5i", "x", "b8", utc(31, 2), FIVE.format("j"), 700, 9),
    # a mention without a value, whose text tries to inject markup into the digest
    P("d1-troll", "x", "troll", utc(30, 10), INJECTION, 30000, 5, "<b>Troll</b>"),
    # "3": new on 01-30
    P("d1-3a", "x", "d1", utc(30, 14), "Wow, 3 ICE stations in Canada now. Who knew?", 5),
    # armed x2, and the two corrections
    P("d1-armed-a", "x", "c1", utc(30, 13), ARMED.format("b"), 10),
    P("d1-armed-b", "mastodon", "c2", utc(30, 20), ARMED.format("c"), 15),
    P("embassy", "x", "usembassyottawa", utc(30, 15), EMBASSY_TEXT, 120000, 800,
      "U.S. Embassy Ottawa", url="https://x.com/usembassyottawa/status/2017000000000000000"),
    P("dailyhive", "news", "dailyhive", utc(30, 18), DAILY_HIVE_TEXT, name="Daily Hive",
      kind="article", url="https://dailyhive.com/vancouver/ice-hsi-canada-embassy-consulates"),
)  # fmt: skip

EXPECTED = {  # (claim, variant): (posts on 01-30, authors, posts on 01-29, authors)
    ("ice-offices-canada", "4"): (3, 3, 6, 4),
    ("ice-offices-canada", "5"): (10, 8, 2, 2),
    ("ice-offices-canada", "3"): (1, 1, 0, 0),
    ("ice-offices-canada", None): (1, 1, 0, 0),
    ("ice-armed-operations-canada", None): (4, 4, 1, 1),
}

RUNS = (
    ("mastodon", utc(30, 6), "ok", 20, 5, None),
    ("mastodon", utc(30, 12), "ok", 18, 4, None),
    ("mastodon", utc(30, 18), "ok", 25, 6, None),
    ("reddit", utc(30, 6), "failed", 0, 0, "HTTP 503 Service Unavailable (3 retries)"),
    ("reddit", utc(30, 12), "failed", 0, 0, "HTTP 503 Service Unavailable (3 retries)"),
    ("reddit", utc(30, 18), "failed", 0, 0, "HTTP 429 Too Many Requests (3 retries)"),
    ("news", utc(30, 7), "ok", 40, 2, None),
    ("news", utc(30, 19), "failed", 0, 0, "ReadTimeout after 30 s"),
    ("hackernews", utc(29, 12), "ok", 5, 0, None),
    ("reddit", utc(29, 12), "ok", 10, 3, None),
)


def posts_table(posts: tuple[P, ...] | list[P]) -> pa.Table:
    def column(values: list[Any], kind: pa.DataType) -> pa.Array:
        return pa.array(values, kind)

    ts = pa.timestamp("us", "UTC")
    return pa.table(
        {
            "source": column([p.source for p in posts], pa.string()),
            "source_id": column([p.uid for p in posts], pa.string()),
            "kind": column([p.kind for p in posts], pa.string()),
            "author_handle": column([p.author for p in posts], pa.string()),
            "author_name": column([p.name for p in posts], pa.string()),
            "author_followers": column([p.followers for p in posts], pa.int64()),
            "likes": column([p.likes for p in posts], pa.int64()),
            "created_at": column([p.at for p in posts], ts),
            "collected_at": column([p.at + timedelta(minutes=5) for p in posts], ts),
            "lang": column(["fr" if "bureaux" in p.text else "en" for p in posts], pa.string()),
            "text": column([p.text for p in posts], pa.string()),
            "url": column(
                [p.url or f"https://{p.source}.example/{p.author}/{p.uid}" for p in posts],
                pa.string(),
            ),
        }
    )


def run_records(runs: tuple[tuple[Any, ...], ...] = RUNS) -> list[RunRecord]:
    return [
        RunRecord(
            run_id=f"{source}-{i}",
            source=source,
            topic="ice-canada",
            started_at=at,
            finished_at=at + timedelta(minutes=1),
            status=status,
            fetched=fetched,
            new=new,
            error=error,
        )
        for i, (source, at, status, fetched, new, error) in enumerate(runs)
    ]


def story_config(tmp_path: Path, env: dict[str, str] | None = None, **digest: Any) -> Config:
    """The shipped config, with the digest's folder in `tmp_path` and `digest` keys replaced."""
    config = load_config(SHIPPED, env=env or {})
    settings = config.digest.model_copy(
        update={"output_dir": tmp_path / "digests", "retry_delay": timedelta(0)} | digest
    )
    return config.model_copy(update={"digest": settings})


def config_file(tmp_path: Path, extra: str = "") -> Path:
    """The shipped config with the digest written into tmp_path, and `extra` TOML appended."""
    text = SHIPPED.read_text(encoding="utf-8")
    folder = (tmp_path / "digests").as_posix()
    text = text.replace('output_dir = "data/digests"', f'output_dir = "{folder}"')
    path = tmp_path / "claimwatch.toml"
    path.write_text(text + extra, encoding="utf-8")
    return path


def seed_story(warehouse: Warehouse, config: Config, posts: tuple[P, ...] = STORY) -> None:
    warehouse.write(Batch(posts=posts_table(posts), runs=run_records()))
    analyze_warehouse(warehouse, config)


# --- a webhook endpoint on loopback ------------------------------------------------------------


class WebhookServer:
    """A local HTTP server that records every POST body; answers each request with the next
    status of `statuses`, then with `default` (200)."""

    def __init__(self, statuses: list[int] | None = None, default: int = 200) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.statuses = list(statuses or [])
        self.default = default
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                server.bodies.append(body)
                status = server.statuses.pop(0) if server.statuses else server.default
                reply = b"ok" if status == 200 else b"server trouble"
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}/hooks/claimwatch-test-token"

    def __enter__(self) -> WebhookServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def with_webhook(config: Config, url: str, **digest: Any) -> Config:
    webhook = Webhook.model_validate({"url": url})
    settings = config.digest.model_copy(update={"webhook": webhook} | digest)
    return config.model_copy(update={"digest": settings})
