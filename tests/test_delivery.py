"""Delivering the digest for real over loopback: mail to an aiosmtpd server with STARTTLS (a
throwaway CA from trustme) and AUTH, read back part by part; a webhook to a local HTTP server,
read back; a failing endpoint retried and recorded, and nothing sent twice.
"""

from __future__ import annotations

import email
import email.policy
import shutil
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from conftest import CliResult
from digest_story import (
    DAY,
    WebhookServer,
    config_file,
    story_config,
    with_webhook,
)

from config import Config, Smtp
from digest.publish import write_digest
from warehouse import Warehouse

USER, PASSWORD = "digest-bot", "correct horse battery staple"
NOW = datetime(2026, 1, 31, 12, tzinfo=UTC)


@dataclass
class Received:
    message: EmailMessage
    mail_from: str
    rcpt_tos: list[str]
    tls: bool
    login: bytes | None


@dataclass
class MailServer:
    port: int
    ca_file: Path
    received: list[Received] = field(default_factory=list)
    logins: list[tuple[bytes, bool]] = field(default_factory=list)  # (login, accepted)


class _Handler:
    def __init__(self, server: MailServer) -> None:
        self.server = server

    async def handle_DATA(self, smtp: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.server.received.append(
            Received(
                message,
                str(envelope.mail_from),
                list(envelope.rcpt_tos),
                session.ssl is not None,
                session.auth_data.login if isinstance(session.auth_data, LoginPassword) else None,
            )
        )
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def mail_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailServer]:
    """A real SMTP server on 127.0.0.1: STARTTLS required, then AUTH required."""
    ca = trustme.CA()
    certificate = ca.issue_cert("127.0.0.1", "localhost")
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(tls)
    ca_file = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server = MailServer(free_port(), ca_file)

    def authenticate(
        smtp: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        accepted = (
            isinstance(data, LoginPassword)
            and data.login == USER.encode()
            and data.password == PASSWORD.encode()
        )
        server.logins.append((getattr(data, "login", b""), accepted))
        return AuthResult(success=accepted, handled=False, auth_data=data)

    controller = Controller(
        _Handler(server),
        hostname="127.0.0.1",
        port=server.port,
        tls_context=tls,
        require_starttls=True,
        authenticator=authenticate,
        auth_required=True,
    )
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture
def warehouse(digest_warehouse: Warehouse) -> Warehouse:
    return digest_warehouse


def mail_config(tmp_path: Path, server: MailServer, password: str = PASSWORD) -> Config:
    smtp = Smtp.model_validate(
        {
            "host": "127.0.0.1",
            "port": server.port,
            "starttls": True,
            "from_addr": "claimwatch@newsroom.example",
            "to_addrs": ["desk@newsroom.example", "editor@newsroom.example"],
            "ca_file": str(server.ca_file),
        }
    )
    env = {"SMTP_USERNAME": USER, "SMTP_PASSWORD": password}
    return story_config(tmp_path, env=env, smtp=smtp, retries=2)


def deliveries(warehouse: Warehouse) -> list[tuple[Any, ...]]:
    with warehouse.reading() as con:
        return con.execute(
            "SELECT item_kind, item_id, channel, status, attempts, error,"
            " delivered_at IS NOT NULL FROM deliveries ORDER BY ALL"
        ).fetchall()


# --- mail ----------------------------------------------------------------------------------------


def test_the_digest_is_mailed_over_starttls_with_login_and_read_back_whole(
    mail_server: MailServer, warehouse: Warehouse, tmp_path: Path
) -> None:
    mail_server.received.clear()
    config = mail_config(tmp_path, mail_server)
    result = write_digest(config, warehouse, DAY, now=NOW)
    assert result.deliveries == [("smtp", "delivered", None)]
    (received,) = mail_server.received
    assert received.tls and received.login == USER.encode()
    assert received.mail_from == "claimwatch@newsroom.example"
    assert received.rcpt_tos == ["desk@newsroom.example", "editor@newsroom.example"]
    message = received.message
    assert message["Subject"] == "claimwatch digest: Friday 30 January 2026 (America/Toronto)"
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    text = plain.get_content()
    assert text.startswith("# claimwatch digest: Friday 30 January 2026 (America/Toronto)")
    assert "| 3 | -3 | 3 | -1 |" in text and "failed all day: HTTP 429" in text
    assert "(The chart is in the HTML version of this digest.)" in text
    page = html.get_content()
    assert "U.S. Embassy Ottawa (@usembassyottawa)" in page
    # the chart: inline in a multipart/related with the HTML, referenced by its Content-ID
    (related,) = [p for p in message.walk() if p.get_content_type() == "multipart/related"]
    (image,) = [p for p in related.iter_parts() if p.get_content_type() == "image/png"]
    content_id = str(image["Content-ID"]).strip("<>")
    assert f'src="cid:{content_id}"' in page
    assert image.get_content_disposition() == "inline"
    assert result.chart_path is not None
    assert image.get_content() == result.chart_path.read_bytes()
    assert deliveries(warehouse) == [("digest", "2026-01-30", "smtp", "delivered", 1, None, True)]


def test_a_delivered_digest_is_never_mailed_again_and_force_rewrites_it_saying_so(
    mail_server: MailServer,
    warehouse: Warehouse,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    mail_server.received.clear()
    config = mail_config(tmp_path, mail_server)
    write_digest(config, warehouse, DAY, now=NOW)
    markdown = (tmp_path / "digests" / "digest-2026-01-30.md").read_text(encoding="utf-8")
    kept = write_digest(config, warehouse, DAY, now=NOW)
    assert (kept.written, kept.rewritten) == (False, False)
    assert kept.deliveries == [("smtp", "already delivered", None)]
    assert "already delivered (smtp); its files are kept as sent" in caplog.text
    assert kept.markdown_path.read_text(encoding="utf-8") == markdown
    forced = write_digest(config, warehouse, DAY, now=NOW, force=True)
    assert (forced.written, forced.rewritten) == (True, True)
    assert forced.deliveries == [("smtp", "already delivered", None)]
    assert "rewrote the digest of 2026-01-30, already delivered (smtp): it is not sent" in (
        caplog.text
    )
    assert len(mail_server.received) == 1
    assert deliveries(warehouse) == [("digest", "2026-01-30", "smtp", "delivered", 1, None, True)]


def test_a_refused_login_is_recorded_and_not_retried(
    mail_server: MailServer, warehouse: Warehouse, tmp_path: Path
) -> None:
    mail_server.received.clear()
    config = mail_config(tmp_path, mail_server, password="wrong")
    result = write_digest(config, warehouse, DAY, now=NOW)
    ((channel, status, error),) = result.deliveries
    assert (channel, status) == ("smtp", "failed")
    assert error is not None and error.startswith("SMTP 535")
    assert mail_server.received == []
    assert mail_server.logins[-1] == (USER.encode(), False)
    assert deliveries(warehouse) == [("digest", "2026-01-30", "smtp", "failed", 1, error, False)]
    assert result.markdown_path.exists()  # the digest stays


def test_a_mail_server_that_cannot_be_reached_is_retried_then_recorded(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    nobody = {"host": "127.0.0.1", "port": free_port(), "from_addr": "a@b.example"}
    smtp = Smtp.model_validate(nobody | {"to_addrs": ["c@d.example"]})
    config = story_config(tmp_path, smtp=smtp, retries=2)
    started = time.monotonic()
    result = write_digest(config, warehouse, DAY, now=NOW)
    ((_, status, error),) = result.deliveries
    assert status == "failed" and error is not None and "ConnectionRefusedError" in error
    assert deliveries(warehouse) == [("digest", "2026-01-30", "smtp", "failed", 3, error, False)]
    assert time.monotonic() - started < 10  # retry_delay 0 in tests


# --- webhook -------------------------------------------------------------------------------------


def test_the_digest_is_posted_to_a_webhook_as_slack_and_mattermost_take_it(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    with WebhookServer() as hook:
        config = with_webhook(story_config(tmp_path), hook.url)
        result = write_digest(config, warehouse, DAY, now=NOW)
    assert result.deliveries == [("webhook", "delivered", None)]
    ((payload),) = hook.bodies
    assert list(payload) == ["text"]
    text = payload["text"]
    assert text.startswith("claimwatch digest: Friday 30 January 2026 (America/Toronto)\n\n")
    assert "5: 10 posts (+8), 4: 3 posts (-3), 3: 1 post (+1) NEW" in text
    assert "authority by U.S. Embassy Ottawa (@usembassyottawa) on x" in text
    assert "reddit: failed all day: HTTP 429 Too Many Requests (3 retries)" in text
    assert "<http://127.0.0.1:8501/claim?claim=ice-offices-canada>" in text
    assert deliveries(warehouse) == [
        ("digest", "2026-01-30", "webhook", "delivered", 1, None, True)
    ]


def test_a_failing_webhook_is_retried_recorded_and_delivered_once_by_a_later_run(
    digest_seeded: Path,
    warehouse: Warehouse,
    tmp_path: Path,
    db_path: Path,
    cli: Callable[..., CliResult],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shutil.copy(digest_seeded, db_path)
    with WebhookServer(default=500) as hook:
        config_path = config_file(tmp_path, '\n[digest.webhook]\nurl_env = "TEST_HOOK_URL"\n')
        text = config_path.read_text(encoding="utf-8")
        text = text.replace('retry_delay = "5s"', 'retry_delay = "10ms"')
        config_path.write_text(text, encoding="utf-8")
        monkeypatch.setenv("TEST_HOOK_URL", hook.url)
        failed = cli("--config", str(config_path), "digest", "--date", "2026-01-30")
        assert failed.code == 1
        assert "webhook: failed: HTTP 500: server trouble" in failed.out
        assert len(hook.bodies) == 4  # the first attempt and the 3 retries of the shipped config
        db = Warehouse(db_path)
        assert deliveries(db) == [
            ("digest", "2026-01-30", "webhook", "failed", 4, "HTTP 500: server trouble", False)
        ]
        assert (tmp_path / "digests" / "digest-2026-01-30.md").exists()
        hook.default = 200  # the endpoint is back
        sent = cli("--config", str(config_path), "digest", "--date", "2026-01-30")
        assert sent.code == 0 and "webhook: delivered" in sent.out
        assert len(hook.bodies) == 5
        again = cli("--config", str(config_path), "digest", "--date", "2026-01-30")
        assert again.code == 0 and "webhook: already delivered" in again.out
        assert "already delivered: kept as sent" in again.out
        assert len(hook.bodies) == 5  # nothing sent twice
        assert deliveries(db) == [("digest", "2026-01-30", "webhook", "delivered", 5, None, True)]


def test_a_webhook_that_recovers_within_the_retries_delivers_once(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    with WebhookServer(statuses=[503, 502]) as hook:
        config = with_webhook(story_config(tmp_path, retries=3), hook.url)
        result = write_digest(config, warehouse, DAY, now=NOW)
    assert result.deliveries == [("webhook", "delivered", None)]
    assert len(hook.bodies) == 3
    assert deliveries(warehouse) == [
        ("digest", "2026-01-30", "webhook", "delivered", 3, None, True)
    ]


def test_a_webhook_that_refuses_the_request_is_not_retried(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    with WebhookServer(default=404) as hook:
        config = with_webhook(story_config(tmp_path, retries=3), hook.url)
        result = write_digest(config, warehouse, DAY, now=NOW)
    assert result.deliveries == [("webhook", "failed", "HTTP 404: server trouble")]
    assert len(hook.bodies) == 1


def test_the_webhook_url_never_shows_in_an_error(warehouse: Warehouse, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/hooks/secret-token-123"
    config = with_webhook(story_config(tmp_path, retries=0), url)
    result = write_digest(config, warehouse, DAY, now=NOW)
    ((_, status, error),) = result.deliveries
    assert status == "failed" and error is not None
    assert "secret-token-123" not in error and "ConnectError" in error


def test_retries_wait_retry_delay_then_twice_as_long(warehouse: Warehouse, tmp_path: Path) -> None:
    from datetime import timedelta

    with WebhookServer(default=500) as hook:
        config = with_webhook(
            story_config(tmp_path, retries=2, retry_delay=timedelta(milliseconds=200)), hook.url
        )
        started = time.monotonic()
        write_digest(config, warehouse, DAY, now=NOW)
        elapsed = time.monotonic() - started
    assert len(hook.bodies) == 3
    assert 0.6 <= elapsed < 5  # 0.2 s + 0.4 s of waiting
