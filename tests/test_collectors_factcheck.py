"""Fact-check collector: ClaimReview mapping, pageToken paging, language pairing, and the key
kept out of URLs. Bodies follow the documented claims:search shape (SOURCES.md)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from collector_harness import Handler, only_pages, run_pages

from collectors.base import BadPage, Page, TopicQuery
from collectors.factcheck import FactCheckCollector
from collectors.http import SourceHttpError

BASE = "https://factchecktools.googleapis.com"
KEY = "AIzaSy-factcheck-secret"
QUERY = TopicQuery("ice-canada", {"en": ["ICE stations Canada"], "fr": ["HSI au Canada"]})

REVIEW = {
    "publisher": {"name": "AFP Fact Check", "site": "factcheck.afp.com"},
    "url": "https://factcheck.afp.com/doc.afp.com.ICE-canada",
    "title": "No, ICE does not run five 'stations' in Canada",
    "reviewDate": "2026-01-30T00:00:00Z",
    "textualRating": "Misleading",
    "languageCode": "en",
}
CLAIM = {
    "text": "There are 5 ICE stations in Canada",
    "claimant": "Social media users",
    "claimDate": "2026-01-27T00:00:00Z",
    "claimReview": [REVIEW],
}


def collect(
    handler: Handler,
    language_codes: list[str] | None = None,
    cursors: Mapping[str, str | None] | None = None,
) -> tuple[list[Page | BadPage], list[httpx.Request]]:
    collector = FactCheckCollector(BASE, KEY, language_codes or ["en"])
    return run_pages(collector, "factcheck", handler, QUERY, cursors)


def claim(url: str, review_date: str) -> dict[str, Any]:
    return {**CLAIM, "claimReview": [{**REVIEW, "url": url, "reviewDate": review_date}]}


def test_a_claim_review_is_a_factcheck_post() -> None:
    pages, requests = collect(lambda r: httpx.Response(200, json={"claims": [CLAIM]}))
    [page] = only_pages(pages)
    [post] = page.posts
    assert {k: v for k, v in post.items() if k != "raw"} == {
        "post_uid": "factcheck:https://factcheck.afp.com/doc.afp.com.ICE-canada",
        "source": "factcheck",
        "source_id": "https://factcheck.afp.com/doc.afp.com.ICE-canada",
        "url": "https://factcheck.afp.com/doc.afp.com.ICE-canada",
        "kind": "factcheck",
        "author_id": "factcheck.afp.com",
        "author_handle": "factcheck.afp.com",
        "author_name": "AFP Fact Check",
        "author_followers": None,
        "created_at": datetime(2026, 1, 30, tzinfo=UTC),
        "collected_at": None,
        "lang": "en",
        "text": "Social media users: There are 5 ICE stations in Canada — Misleading",
        "title": "No, ICE does not run five 'stations' in Canada",
        "parent_uid": None,
        "root_uid": None,
        "likes": None,
        "reposts": None,
        "replies": None,
        "quotes": None,
    }
    assert post["raw"] == {
        "claim": {
            "text": "There are 5 ICE stations in Canada",
            "claimant": "Social media users",
            "claimDate": "2026-01-27T00:00:00Z",
        },
        "review": REVIEW,
    }
    [request] = requests
    assert request.url.path == "/v1alpha1/claims:search"
    assert dict(request.url.params) == {
        "query": "ICE stations Canada",
        "languageCode": "en",
        "pageSize": "100",
        "key": KEY,
    }
    assert (page.scope, page.cursor) == ("en/ICE stations Canada", "2026-01-30T00:00:00Z")
    assert KEY not in page.url


def test_without_review_date_the_claim_date_is_used_and_no_claimant_is_left_out() -> None:
    review = {k: v for k, v in REVIEW.items() if k != "reviewDate"}
    bare = {"text": "ICE agents in Canada carry guns", "claimDate": "2026-01-28T00:00:00Z"}
    body = {"claims": [{**bare, "claimReview": [review]}]}
    [page] = only_pages(collect(lambda r: httpx.Response(200, json=body))[0])
    [post] = page.posts
    assert post["created_at"] == datetime(2026, 1, 28, tzinfo=UTC)
    assert post["text"] == "ICE agents in Canada carry guns — Misleading"


def test_page_token_paging_reads_every_page_and_keeps_the_newest_review_date() -> None:
    bodies = {
        None: {
            "claims": [claim("https://a.example/1", "2026-01-29T00:00:00Z")],
            "nextPageToken": "p2",
        },
        "p2": {"claims": [claim("https://a.example/2", "2026-01-31T00:00:00Z")]},
    }
    pages, requests = collect(
        lambda r: httpx.Response(200, json=bodies[r.url.params.get("pageToken")]),
        cursors={"en/ICE stations Canada": "2026-01-30T00:00:00Z"},
    )
    assert [r.url.params.get("pageToken") for r in requests] == [None, "p2"]
    assert [[p["source_id"] for p in page.posts] for page in only_pages(pages)] == [
        ["https://a.example/1"],
        ["https://a.example/2"],
    ]
    assert [p.cursor for p in only_pages(pages)] == ["2026-01-30T00:00:00Z", "2026-01-31T00:00:00Z"]


def test_each_language_code_gets_the_queries_of_its_language() -> None:
    _, requests = collect(lambda r: httpx.Response(200, json={}), ["en", "fr-CA", "de"])
    assert [(r.url.params["languageCode"], r.url.params["query"]) for r in requests] == [
        ("en", "ICE stations Canada"),
        ("fr-CA", "HSI au Canada"),
        ("de", "ICE stations Canada"),
        ("de", "HSI au Canada"),
    ]


def test_a_review_without_url_is_a_bad_page_and_the_others_load() -> None:
    broken = {**CLAIM, "claimReview": [{k: v for k, v in REVIEW.items() if k != "url"}, REVIEW]}
    bad, page = collect(lambda r: httpx.Response(200, json={"claims": [broken]}))[0]
    assert isinstance(bad, BadPage) and "without url" in bad.error
    assert isinstance(page, Page) and len(page.posts) == 1


def test_an_invalid_key_fails_the_source_without_showing_it() -> None:
    error = {
        "error": {
            "code": 400,
            "message": "API key not valid. Please pass a valid API key.",
            "status": "INVALID_ARGUMENT",
            "details": [{"reason": "API_KEY_INVALID"}],
        }
    }
    with pytest.raises(SourceHttpError) as raised:
        collect(lambda r: httpx.Response(400, json=error))
    assert raised.value.status == 400
    assert "API_KEY_INVALID: API key not valid" in str(raised.value)
    assert KEY not in str(raised.value)
