"""Fact checks: Google Fact Check Tools `claims:search`, each ClaimReview as a "factcheck" post.

**Streams.** One per (language code, query): `GET {base_url}/v1alpha1/claims:search?query=&
languageCode=&pageSize=100&pageToken=&key=`, scope `<languageCode>/<query>`. A language code is
paired with the topic's queries of its language (`fr-CA` takes the `fr` queries): a French query
against English reviews finds little. A language the topic has no queries for gets all of them.
The API documents no boolean operators, so each query is its own search; fact checks are few,
and the quota (per project, not per unit) is generous.

**Cursors.** None that narrows the search: the API ranks by relevance, and has no "since" beyond
`maxAgeDays`. Fact checks are few, and a review is updated after publication (a rating revised,
a claim added), so every pass pages the whole result (up to `max_pages`) and the upserts refresh
what changed. The cursor is informational: the newest `reviewDate` seen by the stream (ISO 8601,
the max of the saved one and every page's), for the run record and the source-health view.

**Pages.** An empty result is `{}` (no `claims`), an empty page. A body that is not JSON, or whose
`claims` is not a list, is a `BadPage`; a review without a url, or without a date (reviewDate,
else claimDate), is a `BadPage` of its own and the page goes on. HTTP failures are raised, with
Google's error reason (e.g. `quotaExceeded`, `API_KEY_INVALID`) and never the key.

**Mapping** (`review_records`): one post per ClaimReview: source "factcheck", source_id and url
the review's url (so the same article reached from two queries is one post; a review url that
covers several claims of a page keeps the first), kind "factcheck", title the review's title,
text `"<claimant>: <claim text> — <textualRating>"` (`"<claim text> — <textualRating>"` without a
claimant; the rating is what marks it a correction, the claimant who is corrected), author_id
and author_handle the publisher's site, author_name its name, created_at reviewDate (else the
claim's claimDate), lang the review's languageCode, no parent, no engagement, raw
`{"claim": <the claim without its claimReview list>, "review": <the review>}`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from collectors.base import BadPage, Page, PostRecord, TopicQuery
from collectors.fields import iso_z, utc_time
from collectors.http import SourceHttp, SourceHttpError, redact_url
from collectors.youtube import google_error

__all__ = ["FactCheckCollector", "review_records", "review_text"]

log = logging.getLogger(__name__)

SOURCE = "factcheck"
SEARCH_PATH = "/v1alpha1/claims:search"


def review_text(claim: str, rating: str, claimant: str | None) -> str:
    body = f"{claim} — {rating}" if rating else claim
    return f"{claimant}: {body}" if claimant else body


def review_records(body: Any) -> tuple[list[PostRecord], list[tuple[str, Any]]]:
    """(posts, unreadable reviews as (error, object)) of a claims:search body.

    Raises ValueError for a body that is not an object or whose `claims` is not a list.
    """
    if not isinstance(body, dict):
        raise ValueError("the body is not a JSON object")
    claims = body.get("claims", [])
    if not isinstance(claims, list):
        raise ValueError("claims is not a list")
    posts: list[PostRecord] = []
    bad: list[tuple[str, Any]] = []
    seen: set[str] = set()
    for claim in claims:
        if not isinstance(claim, dict):
            bad.append(("a claim is not an object", claim))
            continue
        reviews = claim.get("claimReview")
        bare = {k: v for k, v in claim.items() if k != "claimReview"}
        for review in reviews if isinstance(reviews, list) else []:
            try:
                record = _record(bare, review)
            except ValueError as exc:
                bad.append((str(exc), {"claim": bare, "review": review}))
                continue
            if record["source_id"] not in seen:
                seen.add(record["source_id"])
                posts.append(record)
    return posts, bad


def _record(claim: Mapping[str, Any], review: Any) -> PostRecord:
    if not isinstance(review, dict):
        raise ValueError("a claimReview is not an object")
    url = _str(review.get("url"))
    if url is None:
        raise ValueError("a claimReview without url")
    created = utc_time(review.get("reviewDate")) or utc_time(claim.get("claimDate"))
    if created is None:
        raise ValueError(f"{url}: neither reviewDate nor claimDate")
    publisher = review.get("publisher")
    publisher = publisher if isinstance(publisher, dict) else {}
    site, name = _str(publisher.get("site")), _str(publisher.get("name"))
    return {
        "post_uid": f"{SOURCE}:{url}",
        "source": SOURCE,
        "source_id": url,
        "url": url,
        "kind": "factcheck",
        "author_id": site or name,
        "author_handle": site,
        "author_name": name,
        "author_followers": None,
        "created_at": created,
        "collected_at": None,
        "lang": _str(review.get("languageCode")),
        "text": review_text(
            _str(claim.get("text")) or "",
            _str(review.get("textualRating")) or "",
            _str(claim.get("claimant")),
        ),
        "title": _str(review.get("title")),
        "parent_uid": None,
        "root_uid": None,
        "likes": None,
        "reposts": None,
        "replies": None,
        "quotes": None,
        "raw": {"claim": dict(claim), "review": review},
    }


def _str(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


class FactCheckCollector:
    """Google Fact Check Tools claim search, per language and query; see the module docstring."""

    source = SOURCE

    def __init__(
        self,
        base_url: str,
        api_key: str,
        language_codes: list[str],
        max_pages: int = 5,
        *,
        page_size: int = 100,
    ) -> None:
        if not api_key:
            raise ValueError("factcheck: an API key is required")
        if max_pages < 1:
            raise ValueError(f"factcheck: max_pages must be at least 1, not {max_pages}")
        if not language_codes:
            raise ValueError("factcheck: give at least one language code")
        self.base_url = base_url.rstrip("/")
        self.language_codes = list(dict.fromkeys(language_codes))
        self.max_pages = max_pages
        self.page_size = page_size
        self._key = api_key

    def __repr__(self) -> str:  # never show the key
        return f"FactCheckCollector({self.base_url!r}, {self.language_codes!r})"

    def streams(self, query: TopicQuery) -> list[tuple[str, str]]:
        """(language code, query) pairs, in order."""
        streams = []
        for code in self.language_codes:
            own = query.queries.get(code) or query.queries.get(code.split("-")[0])
            for q in dict.fromkeys(own or query.all_queries()):
                streams.append((code, q))
        return streams

    async def pages(
        self, query: TopicQuery, cursors: Mapping[str, str | None], http: SourceHttp
    ) -> AsyncIterator[Page | BadPage]:
        for code, q in self.streams(query):
            scope = f"{code}/{q}"
            async for page in self._stream(code, q, scope, cursors.get(scope), http):
                yield page

    async def _stream(
        self, code: str, q: str, scope: str, saved: str | None, http: SourceHttp
    ) -> AsyncIterator[Page | BadPage]:
        newest = utc_time(saved) if saved else None
        params = {"query": q, "languageCode": code, "pageSize": str(self.page_size)}
        token: str | None = None
        for _ in range(self.max_pages):
            response = await self._get({**params, **({"pageToken": token} if token else {})}, http)
            url = redact_url(response.url)
            try:
                body = response.json()
                posts, bad = review_records(body)
            except ValueError as exc:
                kind = response.headers.get("content-type", "no content-type")
                error = f"not a claims:search response (HTTP {response.status_code}, {kind}): {exc}"
                yield BadPage(error, response.text, scope, url)
                return
            for error, obj in bad:
                yield BadPage(f"unreadable review: {error}", json.dumps(obj), scope, url)
            for post in posts:
                newest = max(newest, post["created_at"]) if newest else post["created_at"]
            token = _str(body.get("nextPageToken"))
            yield Page(
                posts,
                iso_z(newest) if newest else None,
                scope,
                url,
                http.rate_limits.get(response.url.host),
            )
            if token is None:
                return

    async def _get(self, params: Mapping[str, str], http: SourceHttp) -> httpx.Response:
        try:
            return await http.get(self.base_url + SEARCH_PATH, params={**params, "key": self._key})
        except SourceHttpError as exc:
            raise google_error(exc, self._key) from None
