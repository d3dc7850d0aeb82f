"""Secrets kept out of what claimwatch prints and stores: one `Redactor` for every log record
(claimwatch's own and the HTTP client's request lines) and every error it stores.

A secret is masked as it is, URL-encoded (an API key in a query string) and, for a URL (a webhook),
piece by piece: a server that echoes only the path still gives its token away. Query parameters
that carry keys by name (`key=`, `token=`...) are masked whatever their value. Imports nothing
else of claimwatch, so every floor can use it.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from urllib.parse import quote, quote_plus, unquote, urlsplit

MASK = "****"

# Shorter values are not masked: masking "abc" everywhere would garble every log line while
# hiding nothing worth hiding.
_MIN_CHARS = 4
# A path segment or query value of a secret URL is a token unless it is a plain lowercase word
# ("services", "webhooks"): Slack's and Discord's hooks carry theirs in the path.
_PLAIN_WORD = re.compile(r"[a-z]+")
_KEY_PARAMS = re.compile(
    r"(?i)([?&;](?:access_token|api_key|apikey|key|token|client_secret|password|secret)=)"
    r"[^&;#\s\"'<>]+"
)


class Redactor:
    """Masks the secrets it was given in any text; more can be added while it is in use."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        found = {form for secret in secrets for form in _forms(secret)}
        with self._lock:
            if found <= self._secrets:
                return
            self._secrets |= found
            # longest first, so a URL is masked whole before its pieces
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(map(re.escape, ordered)))

    def redact(self, text: str) -> str:
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(MASK, text)
        return _KEY_PARAMS.sub(rf"\g<1>{MASK}", text)


class RedactingFilter(logging.Filter):
    """A handler filter that masks a record's message, arguments, traceback and stack."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        redact = self.redactor.redact
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info:
            # formatted here, once, so that no handler formats the raw exception after us
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def _forms(secret: str) -> set[str]:
    """The secret as it may be written out: as is, URL-encoded, and a URL's tokens."""
    if len(secret) < _MIN_CHARS:
        return set()
    forms = {secret, quote(secret, safe=""), quote_plus(secret, safe="")}
    if secret.startswith(("http://", "https://")):
        forms |= {form for token in _url_tokens(secret) for form in _forms(token)}
    return forms


def _url_tokens(url: str) -> set[str]:
    parts = urlsplit(url)
    pieces = [parts.password or "", *parts.path.split("/")]
    pieces += [value for pair in parts.query.split("&") for value in pair.split("=")[1:]]
    return {unquote(piece) for piece in pieces if not _PLAIN_WORD.fullmatch(unquote(piece))}
