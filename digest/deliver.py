"""Delivery of digests and alerts by mail (SMTP) and webhook, each optional in `[digest]`.

Every attempt is recorded in `store.deliveries` (the `deliveries` view: one row per item and
channel, with the attempts made over all runs). A channel that delivered an item never gets it
again; a failed attempt is retried `[digest] retries` times, waiting `retry_delay`, then twice as
long each time, unless the failure is one that retrying cannot fix (an SMTP 5xx reply such as a
refused login, a webhook's 4xx other than 429). The digest's files stay whatever happens.

Mail: multipart/alternative, the Markdown as the plain-text part and the HTML part with the chart
inline (multipart/related, referenced by its Content-ID); STARTTLS and login where configured.
Webhook: a JSON POST `{"text": ...}`, the shape Slack's and Mattermost's incoming webhooks take.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import httpx

from config import Config, Redactor, Smtp
from digest import records
from warehouse import Warehouse

log = logging.getLogger(__name__)

SUMMARY_START = "<!-- summary -->"
SUMMARY_END = "<!-- /summary -->"
WEBHOOK_MAX_CHARS = 12_000  # Mattermost takes 16,383 characters in a post, Slack 40,000


@dataclass(frozen=True)
class InlineImage:
    content_id: str  # without the angle brackets
    data: bytes
    filename: str


@dataclass(frozen=True)
class Message:
    """One item to deliver, in the forms each channel takes."""

    subject: str
    text: str
    html: str
    webhook_text: str
    images: list[InlineImage] = field(default_factory=list)


Outcome = tuple[
    str, str, str | None
]  # (channel, "delivered" | "failed" | "already delivered", error)


class PermanentError(Exception):
    """A failure that retrying cannot fix."""


# --- building the messages -----------------------------------------------------------------------


def digest_message(markdown_path: Path, html_path: Path, png_path: Path) -> Message:
    """The digest as written to its files: what is sent is exactly what is kept."""
    markdown = markdown_path.read_text(encoding="utf-8")
    html = html_path.read_text(encoding="utf-8")
    lines = markdown.splitlines()
    subject = lines[0].removeprefix("# ").strip() if lines else markdown_path.stem
    chart_line = f"]({png_path.name})"
    text = "\n".join(
        "(The chart is in the HTML version of this digest.)"
        if line.startswith("![") and line.endswith(chart_line)
        else line
        for line in lines
    )
    images = []
    if png_path.exists():
        content_id = make_msgid(idstring="chart", domain="claimwatch.local")[1:-1]
        html = html.replace(f'src="{png_path.name}"', f'src="cid:{content_id}"')
        images.append(InlineImage(content_id, png_path.read_bytes(), png_path.name))
    return Message(subject, text + "\n", html, _webhook_text(subject, markdown), images)


def _webhook_text(subject: str, markdown: str) -> str:
    start, end = markdown.find(SUMMARY_START), markdown.find(SUMMARY_END)
    summary = markdown[start + len(SUMMARY_START) : end].strip() if 0 <= start < end else ""
    text = f"{subject}\n\n{summary}".strip()
    if len(text) > WEBHOOK_MAX_CHARS:
        text = text[: WEBHOOK_MAX_CHARS - 1] + "…"
    return text


def mail(config: Smtp, message: Message, now: datetime) -> EmailMessage:
    email = EmailMessage()
    email["Subject"] = message.subject
    email["From"] = config.from_addr
    email["To"] = ", ".join(config.to_addrs)
    email["Date"] = format_datetime(now)
    email["Message-ID"] = make_msgid(domain="claimwatch.local")
    email.set_content(message.text)
    email.add_alternative(message.html, subtype="html")
    html_part = email.get_body(preferencelist=("html",))
    assert html_part is not None
    for image in message.images:
        html_part.add_related(
            image.data,
            maintype="image",
            subtype="png",
            cid=f"<{image.content_id}>",
            filename=image.filename,
            disposition="inline",
        )
    return email


# --- the channels --------------------------------------------------------------------------------


def send_mail(config: Config, message: Message, now: datetime) -> None:
    settings = config.digest.smtp
    assert settings is not None
    timeout = config.digest.timeout.total_seconds()
    context = ssl.create_default_context()
    if settings.ca_file is not None:
        context.load_verify_locations(cafile=settings.ca_file)
    login = _smtp_login(config)
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=timeout) as smtp:
            smtp.ehlo()
            if settings.starttls:
                smtp.starttls(context=context)
                smtp.ehlo()
            if login is not None:
                smtp.login(*login)
            smtp.send_message(mail(settings, message, now), settings.from_addr, settings.to_addrs)
    except smtplib.SMTPRecipientsRefused as error:
        raise PermanentError(f"recipients refused: {error.recipients}") from None
    except smtplib.SMTPResponseException as error:
        reply = (
            error.smtp_error.decode(errors="replace")
            if isinstance(error.smtp_error, bytes)
            else str(error.smtp_error)
        )
        text = f"SMTP {error.smtp_code}: {reply}"
        if 500 <= error.smtp_code < 600:
            raise PermanentError(text) from None
        raise RuntimeError(text) from None


def _smtp_login(config: Config) -> tuple[str, str] | None:
    smtp = config.digest.smtp
    assert smtp is not None
    username = config.secret(smtp.credentials.username)
    password = config.secret(smtp.credentials.password)
    if username is None and password is None:
        return None
    if username is None or password is None:
        missing = smtp.credentials.username if username is None else smtp.credentials.password
        raise PermanentError(f"SMTP login needs {missing} set too (both or neither)")
    return username.get_secret_value(), password.get_secret_value()


def post_webhook(config: Config, message: Message, now: datetime) -> None:
    url = config.webhook_url()
    if url is None:
        webhook = config.digest.webhook
        name = webhook.url_env if webhook is not None else None
        raise PermanentError(f"the webhook URL is not set ({name} is empty)")
    secret = url.get_secret_value()
    payload: dict[str, Any] = {"text": message.webhook_text}
    try:
        response = httpx.post(secret, json=payload, timeout=config.digest.timeout.total_seconds())
    except httpx.HTTPError as error:
        raise RuntimeError(
            f"{type(error).__name__}: {error}".replace(secret, "<webhook URL>")
        ) from None
    if response.is_success:
        return
    text = f"HTTP {response.status_code}: {response.text[:200].strip()}"
    if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
        raise PermanentError(text)
    raise RuntimeError(text)


Sender = Callable[[Config, Message, datetime], None]


def channels(config: Config) -> dict[str, Sender]:
    """The configured channels, by the name `deliveries.channel` gives them."""
    chosen: dict[str, Sender] = {}
    if config.digest.smtp is not None:
        chosen["smtp"] = send_mail
    if config.digest.webhook is not None:
        chosen["webhook"] = post_webhook
    return chosen


# --- delivering with retries ----------------------------------------------------------------------


def deliver(
    config: Config,
    warehouse: Warehouse,
    item_kind: str,
    item_id: str,
    message: Message,
    now: datetime,
) -> list[Outcome]:
    """Send `message` on every configured channel that has not delivered it yet; record every
    attempt. Returns one outcome per configured channel."""
    senders = channels(config)
    if not senders:
        return []
    done = records.delivered_channels(warehouse, item_kind, item_id)
    outcomes: list[Outcome] = []
    for channel, send in senders.items():
        if channel in done:
            log.info("%s %s: already delivered by %s, not sent again", item_kind, item_id, channel)
            outcomes.append((channel, "already delivered", None))
            continue
        outcomes.append(
            _with_retries(config, warehouse, item_kind, item_id, channel, send, message, now)
        )
    return outcomes


def _with_retries(
    config: Config,
    warehouse: Warehouse,
    item_kind: str,
    item_id: str,
    channel: str,
    send: Sender,
    message: Message,
    now: datetime,
) -> Outcome:
    started = time.monotonic()
    redactor = Redactor(config.secrets())  # a server's answer may echo the URL or a login
    attempts = config.digest.retries + 1
    delay = config.digest.retry_delay
    error = ""
    for attempt in range(1, attempts + 1):
        at = now + timedelta(seconds=time.monotonic() - started)
        try:
            send(config, message, at)
        except PermanentError as failure:
            error = redactor.redact(str(failure))
            _record(warehouse, item_kind, item_id, channel, None, error, at)
            log.error(
                "%s %s: %s delivery failed, not retried: %s", item_kind, item_id, channel, error
            )
            return channel, "failed", error
        except Exception as failure:  # a network or server fault: worth another try
            error = redactor.redact(_describe(failure))
            _record(warehouse, item_kind, item_id, channel, None, error, at)
            if attempt == attempts:
                break
            log.warning(
                "%s %s: %s attempt %d of %d failed (%s); retrying in %.1f s",
                item_kind, item_id, channel, attempt, attempts, error, delay.total_seconds(),
            )  # fmt: skip
            time.sleep(delay.total_seconds())
            delay *= 2
        else:
            _record(warehouse, item_kind, item_id, channel, True, None, at)
            log.info("%s %s: delivered by %s (attempt %d)", item_kind, item_id, channel, attempt)
            return channel, "delivered", None
    log.error(
        "%s %s: %s delivery failed after %d attempts: %s",
        item_kind,
        item_id,
        channel,
        attempts,
        error,
    )
    return channel, "failed", error


def _describe(failure: Exception) -> str:
    text = str(failure)
    if isinstance(failure, RuntimeError) and type(failure) is RuntimeError:
        return text
    return f"{type(failure).__name__}: {text}" if text else type(failure).__name__


def _record(
    warehouse: Warehouse,
    item_kind: str,
    item_id: str,
    channel: str,
    delivered: bool | None,
    error: str | None,
    at: datetime,
) -> None:
    records.record_attempt(
        warehouse, item_kind, item_id, channel, delivered=bool(delivered), error=error, at=at
    )
