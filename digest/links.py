"""Links into the dashboard, built on `[dashboard] public_url` (`Dashboard.link_base`), as the
dashboard's pages read them."""

from __future__ import annotations

from urllib.parse import quote


def claim_link(base: str, claim_id: str) -> str:
    """The claim's page: its variants over time and its corrections."""
    return f"{base}/claim?claim={quote(claim_id, safe='')}"


def posts_link(base: str, claim_id: str, variant: str | None) -> str:
    """The posts of a claim, of one variant when `variant` is given."""
    link = f"{base}/posts?claim={quote(claim_id, safe='')}"
    return link if variant is None else f"{link}&variant={quote(variant, safe='')}"
