"""Secrets kept out of verbose logs and stored errors (issue 14): the API keys of `claimwatch -v
collect`, the webhook URL's token of `claimwatch -v digest`, and what a webhook server echoes into
`deliveries.error`. Real processes against a real HTTP server on loopback."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import pytest
import tomli_w
from digest_story import config_file

from config import MASK, RedactingFilter, Redactor, load_config

CONFIG = Path(__file__).parent.parent / "config" / "claimwatch.toml"
YOUTUBE_KEY = "AIzaSy-youtube-key-0123456789"
FACTCHECK_KEY = "AIzaSy-factcheck/key+0123456789"  # '/' and '+' go out URL-encoded
HOOK_TOKEN = "T0123/B4567/XyZhookToken890"


class EchoServer:
    """Answers every GET with an empty page of results; every POST with a 500 whose body echoes
    the path it was posted to, as careless webhook servers do."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._reply(200, json.dumps({"items": [], "claims": []}).encode())

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self._reply(500, f"no hook at {self.path}".encode())

            def _reply(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> EchoServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def server() -> Iterator[EchoServer]:
    with EchoServer() as running:
        yield running


def claimwatch(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "claimwatch.cli", *args],
        env=os.environ | {"COLUMNS": "300"} | env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_verbose_collect_never_prints_the_api_keys(server: EchoServer, tmp_path: Path) -> None:
    config = tomllib.loads(CONFIG.read_text())
    for source in config["sources"].values():
        source["enabled"] = False
    config["sources"]["youtube"].update(enabled=True, base_url=server.base)
    config["sources"]["factcheck"].update(enabled=True, base_url=server.base)
    path = tmp_path / "claimwatch.toml"
    path.write_text(tomli_w.dumps(config))
    env = {"YOUTUBE_API_KEY": YOUTUBE_KEY, "FACTCHECK_API_KEY": FACTCHECK_KEY}
    db = tmp_path / "claimwatch.duckdb"
    result = claimwatch("--db", str(db), "--config", str(path), "-v", "collect", env=env)
    said = result.stdout + result.stderr
    assert "HTTP Request: GET" in said, said  # the HTTP client's own log is there...
    assert MASK in said
    for key in (YOUTUBE_KEY, FACTCHECK_KEY):  # ...without the keys, plain or URL-encoded
        assert key not in said
        assert Redactor([key]).redact(said) == said


def test_verbose_digest_never_prints_the_webhook_token_nor_stores_its_echo(
    server: EchoServer, digest_seeded: Path, tmp_path: Path
) -> None:
    db = tmp_path / "claimwatch.duckdb"
    shutil.copy(digest_seeded, db)
    path = config_file(tmp_path, '\n[digest.webhook]\nurl_env = "TEST_HOOK_URL"\n')
    path.write_text(path.read_text().replace('retry_delay = "5s"', 'retry_delay = "10ms"'))
    env = {"TEST_HOOK_URL": f"{server.base}/services/{HOOK_TOKEN}"}
    result = claimwatch(
        "--db", str(db), "--config", str(path), "-v", "digest", "--date", "2026-01-30", env=env
    )
    said = result.stdout + result.stderr
    assert result.returncode == 1, said
    assert "HTTP 500" in said
    assert "HTTP Request: POST" in said
    for part in (HOOK_TOKEN, *HOOK_TOKEN.split("/")):
        assert part not in said
    with duckdb.connect(str(db), read_only=True) as con:
        errors = [row[0] for row in con.execute("SELECT error FROM deliveries").fetchall()]
    assert errors and all(error.startswith("HTTP 500: no hook at /services/") for error in errors)
    for part in HOOK_TOKEN.split("/"):
        assert all(part not in error for error in errors), errors


def test_a_record_is_redacted_whole_with_its_arguments_and_traceback() -> None:
    redactor = Redactor(["s3cr3t-value", "https://hooks.example/services/T0123/B4567/tokenABC123"])
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    handler.addFilter(RedactingFilter(redactor))
    logger = logging.getLogger("test_redaction.whole")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise RuntimeError("refused key s3cr3t-value")
        except RuntimeError:
            logger.exception("posting to %s failed", "https://hooks.example/services/T0123/B4567/x")
    finally:
        logger.removeHandler(handler)
    (record,) = records
    text = logging.Formatter().format(record)
    assert "s3cr3t-value" not in text and "tokenABC123" not in text
    assert "https://hooks.example/services/****/****/x failed" in text
    assert "RuntimeError: refused key ****" in text


def test_short_values_and_plain_words_of_a_url_are_not_secrets() -> None:
    redactor = Redactor(["abc", "https://hooks.example/services/webhooks/Tk9aLongToken"])
    assert redactor.redact("abc services webhooks hooks.example") == (
        "abc services webhooks hooks.example"
    )
    assert redactor.redact("sent to .../Tk9aLongToken") == f"sent to .../{MASK}"


def test_the_config_names_every_secret_it_resolves_and_no_login_name(tmp_path: Path) -> None:
    smtp = (
        '\n[digest.smtp]\nhost = "mail.example"\nfrom_addr = "a@newsroom.example"\n'
        'to_addrs = ["b@newsroom.example"]\n[digest.webhook]\nurl_env = "TEST_HOOK_URL"\n'
    )
    env = {
        "YOUTUBE_API_KEY": YOUTUBE_KEY,
        "X_BEARER_TOKEN": "bearer-x-0123",
        "BLUESKY_HANDLE": "reader.example",
        "BLUESKY_APP_PASSWORD": "app-pass-0123",
        "REDDIT_CLIENT_SECRET": "reddit-secret-0123",
        "SMTP_USERNAME": "digest-bot",
        "SMTP_PASSWORD": "smtp-pass-0123",
        "TEST_HOOK_URL": "https://hooks.example/services/T0123/B4567/tokenABC123",
    }
    config = load_config(config_file(tmp_path, smtp), env=env)
    assert sorted(config.secrets()) == sorted(
        [
            YOUTUBE_KEY,
            "bearer-x-0123",
            "app-pass-0123",
            "reddit-secret-0123",
            "smtp-pass-0123",
            env["TEST_HOOK_URL"],
        ]
    )
    masked = Redactor(config.secrets()).redact(
        "535 bad login digest-bot smtp-pass-0123 for reader.example; tokenABC123"
    )
    assert masked == f"535 bad login digest-bot {MASK} for reader.example; {MASK}"
