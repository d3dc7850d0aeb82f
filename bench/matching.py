"""Topic matching benchmark: `match_topics` over generated posts against a naive per-post loop.

    python bench/matching.py                   # 1,000,000 posts, naive loop on the first 20,000
    python bench/matching.py --posts 100000    # quicker

Posts are generated (seeded): most are unrelated chatter, with the words that trap a careless
matcher (ice, nice, Canada, hockey, Montréal, URLs); about 3% are about the story, in English or
French, with typographic apostrophes. The naive baseline applies the same rules with Python's `re`,
one post at a time; its answers are compared with `match_topics` on the posts it ran on.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from generate import EVERYDAY_WORDS  # noqa: E402

from collectors import matching  # noqa: E402
from config import Topic, load_config  # noqa: E402

CHATTER = [
    *EVERYDAY_WORDS,
    "Montréal",
    "Vancouver",
    "nice",
    "Nice",
    "police",
    "border",
    "news",
    "today",
    "breaking",
    "le",
    "la",
    "les",
    "des",
    "une",
    "est",
    "dans",
    "pour",
    "avec",
    "sur",
    "pas",
    "plus",
    "bureaux",
    "postes",
    "stations",
    "offices",
    "agents",
    "NICE",
    "Ice",
    "ICEBERG",
    "justice",
    "service",
    "office",
    "Canadians",
    "canadien",
    "été",
    "café",
    "déjà",
    "l\u2019hiver",
    "it\u2019s",
    "don\u2019t",
    "🇨🇦",
    "😂",
    "#hockey",
    "#cdnpoli",
    "https://example.com/ICE-Canada",
    "www.cbc.ca/news",
]
STORY = [
    "BREAKING: There are 5 #ICE stations Canada!! Ottawa, Calgary, Montreal, Vancouver, Toronto.",
    "the US government placed 4 ICE stations in Canada, including the capital",
    "closing the ICE offices in Canada is overdue",
    "HSI operates in Canada with Canadian law enforcement",
    "Les bureaux de l\u2019ICE au Canada font jaser à Montréal",
    "#ICEoutofCanada now",
    "Des agents de l'ICE à Ottawa? Précisons.",
]


def generate(count: int, seed: int = 20260128) -> pl.DataFrame:
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        words = rng.choices(CHATTER, k=rng.randint(8, 40))
        if rng.random() < 0.03:
            words.insert(rng.randint(0, len(words)), rng.choice(STORY))
        texts.append(" ".join(words))
    titles = [None if rng.random() < 0.9 else "Weather and hockey tonight" for _ in range(count)]
    langs = [rng.choice(["en", "fr", None]) for _ in range(count)]
    return pl.DataFrame({"text": texts, "title": titles, "lang": langs})


def naive_matcher(topics: Mapping[str, Topic]) -> Callable[[str | None, str | None], list[str]]:
    """The same rules, one post at a time with Python's `re`: the baseline."""
    plan = matching._plan(topics)
    compiled = [[re.compile(p) for p in term.patterns] for term in plan.terms]
    url = re.compile(matching._URL)

    def match(title: str | None, text: str | None) -> list[str]:
        joined = "\n".join(part or "" for part in (title, text))
        folded = matching.fold(url.sub("\n", joined))
        return [
            term.label
            for term, patterns in zip(plan.terms, compiled, strict=True)
            if all(pattern.search(folded) for pattern in patterns)
        ]

    return match


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--baseline-posts", type=int, default=20_000)
    parser.add_argument("--config", type=Path, default=ROOT / "config" / "claimwatch.toml")
    args = parser.parse_args()
    topics = load_config(args.config).topics

    started = time.perf_counter()
    posts = generate(args.posts)
    print(f"generated {args.posts:,} posts in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    matched = matching.match_topics(posts, topics)
    seconds = time.perf_counter() - started
    kept = matched.filter(pl.col("topics").list.len() > 0).height
    print(
        f"match_topics : {args.posts / seconds:>12,.0f} posts/s  ({seconds:.2f} s, {kept:,} kept)"
    )

    sample = posts.head(args.baseline_posts)
    match = naive_matcher(topics)
    started = time.perf_counter()
    naive = [
        match(title, text) for title, text in zip(sample["title"], sample["text"], strict=True)
    ]
    seconds = time.perf_counter() - started
    print(f"naive re loop: {sample.height / seconds:>12,.0f} posts/s  ({seconds:.2f} s)")

    agree = matched["matched_terms"].head(sample.height).to_list() == naive
    print(f"same matched_terms on the first {sample.height:,} posts: {agree}")


if __name__ == "__main__":
    main()
