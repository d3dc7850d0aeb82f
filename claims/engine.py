"""Claim analysis over whole columns (Polars): which claims each post mentions, with what value
(the variant), in what stance, and which mentions are corrections.

(Interface first; the rules land in the next commit.)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from claimwatch.config import Config

# Bump when the rules in this package change: every claim is then re-analysed.
ENGINE_VERSION = "1"

INPUT_COLUMNS = ("post_uid", "source", "author_handle", "text")  # plus "title" when present
MENTION_SCHEMA = {
    "post_uid": pl.String,
    "claim_id": pl.String,
    "variant": pl.String,
    "stance": pl.String,
    "matched_text": pl.String,
    "span_start": pl.Int32,
    "span_end": pl.Int32,
}
CORRECTION_SCHEMA = {
    "post_uid": pl.String,
    "claim_id": pl.String,
    "variant": pl.String,
    "kind": pl.String,
}


@dataclass(frozen=True)
class ClaimAnalysis:
    mentions: pl.DataFrame  # MENTION_SCHEMA: one row per (post, claim) mentioned
    corrections: pl.DataFrame  # CORRECTION_SCHEMA: one row per mention whose stance is corrects


def claim_versions(config: Config) -> dict[str, str]:
    """claim id -> fingerprint of its definition, the language rules and the engine version."""
    lexicon = config.model_dump(mode="json").get("language", {})
    versions = {}
    for claim_id, claim in config.claims.items():
        payload = json.dumps(
            [ENGINE_VERSION, claim.model_dump(mode="json"), lexicon], sort_keys=True
        )
        versions[claim_id] = hashlib.sha256(payload.encode()).hexdigest()[:16]
    return versions


def analyze_posts(
    posts: pl.DataFrame, config: Config, claim_ids: Iterable[str] | None = None
) -> ClaimAnalysis:
    """Mentions and corrections of the claims `claim_ids` (default: all) in `posts`."""
    del posts, config, claim_ids
    return ClaimAnalysis(
        pl.DataFrame(schema=MENTION_SCHEMA), pl.DataFrame(schema=CORRECTION_SCHEMA)
    )
