"""The story over simulated time: the real posts of late January 2026, and traffic made around them.

`build_story(seed)` returns every post the demo server will ever serve, each with the platform it
is served on, its platform-native id, its time and its text, marked `real` or `generated`:

- **Real** (`data/seed_posts.jsonl`, a copy of the team's seed: posts and statements quoted in the
  press): the "4 ICE stations" post (2026-01-27), the "5" post (2026-01-28), the NDP MP's letter
  (2026-01-29) and the U.S. Embassy's correction (2026-01-30) on X, and the Daily Hive article
  reporting the ICE spokesperson's statement (2026-01-30) in the news. Their texts and dates are
  exact; the time of day is unknown, so each stands at noon in Toronto on its date (the seed's
  00:00 UTC would put it on the evening before, local time, and in the wrong day's digest).
  What the demo adds to them is marked in their provenance note: X ids (the seed has none; X's
  API has only numeric ids, so each gets a snowflake of its date) and engagement counts.
- **Generated**, around them: the "4" post echoed; the "5" post spreading widely through X
  retweets, quotes and replies, Bluesky posts, quotes and replies, Mastodon posts, quotes and
  replies, Reddit threads and crossposts; French posts ("cinq bureaux", "quatre"); people asking;
  people denying; the NDP letter in the news; after the embassy's correction, its retweets, the
  community repeating it (in English and French), news articles and a Hacker News thread; and
  the spread of "5" slowing down after the correction. Texts are built from templates x places x
  phrasings so that the claim analysis has real work; a little off-topic noise ("black ice",
  hockey) is served to the searches too, for the collectors' topic matching to drop.

Everything is deterministic for a given seed. Times are UTC; the story runs from 2026-01-26 00:00
to 2026-01-31 08:00 in Toronto. Mastodon boosts and Bluesky reposts are not posts of their own
here, because neither a Mastodon hashtag timeline or search nor Bluesky's searchPosts ever lists
them: they show as the counts (`reblogs_count`, `repostCount`) of the posts they spread, growing
over time. X's recent search does list retweets, so there they are posts.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from typing import Any, Literal
from zoneinfo import ZoneInfo

__all__ = [
    "END",
    "START",
    "Author",
    "Story",
    "StoryPost",
    "build_story",
    "search_words",
    "words_of",
]

Platform = Literal["x", "mastodon", "bluesky", "reddit", "news", "gdelt", "hackernews"]
PLATFORMS: tuple[Platform, ...] = (
    "x",
    "mastodon",
    "bluesky",
    "reddit",
    "news",
    "gdelt",
    "hackernews",
)

START = datetime(2026, 1, 26, 5, 0, tzinfo=UTC)  # 2026-01-26 00:00 in Toronto
END = datetime(2026, 1, 31, 13, 0, tzinfo=UTC)  # 2026-01-31 08:00 in Toronto
# the real posts' times: noon in Toronto on their dates (see `_local_noon`)
T_FOUR = datetime(2026, 1, 27, 17, tzinfo=UTC)
T_FIVE = datetime(2026, 1, 28, 17, tzinfo=UTC)
T_LETTER = datetime(2026, 1, 29, 17, tzinfo=UTC)
T_EMBASSY = datetime(2026, 1, 30, 17, tzinfo=UTC)

_TWITTER_EPOCH_MS = 1_288_834_974_657
_HOUR = 3600.0


@dataclass(frozen=True)
class Author:
    platform: Platform
    handle: str  # as the platform shows it (Mastodon: user@domain; Bluesky: a domain handle)
    name: str
    user_id: str  # X user id, Bluesky DID, Mastodon actor uri, Reddit/HN username, outlet url
    followers: int | None


@dataclass
class StoryPost:
    """One post as the demo serves it; `native_id` is the platform's own id for it."""

    platform: Platform
    native_id: str
    created_at: datetime
    author: Author
    text: str
    lang: str
    kind: str  # post, reply, repost, quote, article, comment
    provenance: Literal["real", "generated"]
    note: str
    parent: StoryPost | None = None
    title: str | None = None
    likes: int = 0  # final counts, reached as the post ages (`counts_at`)
    reposts: int = 0
    replies: int = 0
    quotes: int = 0
    extra: dict[str, Any] = field(default_factory=dict)  # per platform: subreddit, domain, edition
    words: frozenset[str] = frozenset()  # what a search matches against (`words_of`)

    @property
    def post_uid(self) -> str:
        """The key the platform's collector gives this post (`collectors/<platform>.py`)."""
        return f"{self.platform}:{self.source_id}"

    @property
    def source_id(self) -> str:
        if self.platform == "mastodon":
            return str(self.extra["uri"])
        if self.platform == "bluesky":
            return str(self.extra["uri"])
        if self.platform == "reddit":
            return f"t3_{self.native_id}"
        return self.native_id

    def counts_at(self, now: datetime) -> dict[str, int]:
        """Engagement as the platform reports it at `now`: each count grows toward its final
        value, fast at first (a post's reach is mostly made in its first hours)."""
        age_h = max((now - self.created_at).total_seconds(), 0.0) / _HOUR
        grown = 1.0 - math.exp(-age_h / 6.0)
        return {
            "likes": round(self.likes * grown),
            "reposts": round(self.reposts * grown),
            "replies": round(self.replies * grown),
            "quotes": round(self.quotes * grown),
        }


@dataclass(frozen=True)
class Story:
    posts: tuple[StoryPost, ...]  # every platform, oldest first
    seed: int

    def on(self, platform: Platform) -> list[StoryPost]:
        return [post for post in self.posts if post.platform == platform]

    def visible(self, platform: Platform, now: datetime) -> list[StoryPost]:
        """The platform's posts published at or before `now`, newest first."""
        return sorted(
            (p for p in self.posts if p.platform == platform and p.created_at <= now),
            key=lambda p: (p.created_at, p.native_id),
            reverse=True,
        )

    def provenance_rows(self) -> list[tuple[str, str, str]]:
        """(post_uid, provenance, note) for every post served."""
        return [(p.post_uid, p.provenance, p.note) for p in self.posts]

    def counts(self) -> dict[str, int]:
        """Posts by provenance and platform, e.g. {"generated": 812, "generated:x": 300...}."""
        totals: dict[str, int] = {}
        for post in self.posts:
            for key in (post.provenance, f"{post.provenance}:{post.platform}"):
                totals[key] = totals.get(key, 0) + 1
        return totals


# --- searching ----------------------------------------------------------------------------------

_WORD = re.compile(r"[#@]?\w+")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.replace("\u2019", "'"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words_of(text: str) -> frozenset[str]:
    """The words a search engine would index: folded, accents removed; hashtags both as `#tag`
    and as the bare word."""
    words: set[str] = set()
    for token in _WORD.findall(_fold(text)):
        words.add(token)
        words.add(token.lstrip("#@"))
    return frozenset(words)


def search_words(query: str) -> list[list[frozenset[str]]]:
    """A search query as OR-groups of AND-terms, each term the set of words it needs.

    Handles what the collectors send: plain words (all must appear), `"a phrase"` (its words),
    `(q1) OR (q2)`, `#tag`, and Google's `when:7d` (dropped; the server applies the window).
    Phrases are matched as their words, which is looser than the real engines and enough here.
    """
    groups = []
    for part in re.split(r"\s+OR\s+", query):
        part = re.sub(r"\bwhen:\S+", " ", part).strip().strip("()")
        terms = [words_of(term.strip('"')) for term in re.findall(r'"[^"]*"|\S+', part)]
        terms = [term for term in terms if term]
        if terms:
            groups.append(terms)
    return groups


def matches(post: StoryPost, query: list[list[frozenset[str]]]) -> bool:
    return any(all(_has(post.words, term) for term in group) for group in query)


def _has(words: frozenset[str], term: frozenset[str]) -> bool:
    return term <= words  # a hashtag term holds "#tag": only posts with the hashtag have it


# --- ids ----------------------------------------------------------------------------------------


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def x_snowflake(when: datetime, sequence: int) -> str:
    return str(((_ms(when) - _TWITTER_EPOCH_MS) << 22) | (sequence & 0x3FFFFF))


def mastodon_snowflake(when: datetime, sequence: int) -> str:
    return str((_ms(when) << 16) | (sequence & 0xFFFF))


_B32 = "234567abcdefghijklmnopqrstuvwxyz"


def bluesky_tid(when: datetime, sequence: int) -> str:
    """An atproto TID: microseconds since the epoch and a clock id, base32-sortable, 13 chars."""
    value = (int(when.timestamp() * 1_000_000) << 10) | (sequence & 0x3FF)
    chars = []
    for _ in range(13):
        chars.append(_B32[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def _digest(*parts: str) -> str:
    return hashlib.sha1("|".join(parts).encode()).hexdigest()


# --- the words of the story ---------------------------------------------------------------------

CITIES_EN = ["Ottawa", "Calgary", "Montreal", "Toronto", "Vancouver"]
CITIES_FR = ["Ottawa", "Calgary", "Montréal", "Toronto", "Vancouver"]

FOUR_EN = [
    "So there are {four} ICE stations in Canada now? {react}",
    "Wow. {four} ICE stations in Canada and nobody told us. {react} {tag}",
    "Just learned the US has {four} ICE offices in Canada, including one in Ottawa. {react}",
    "{Four} ICE stations on Canadian soil. How was that ever allowed? {tag}",
    "Our government let the US put {four} ICE stations in Canada. {react}",
    "{four} ICE offices in Canada, one of them in the national capital. {react} {tag}",
]
FOUR_FR = [
    "Il y aurait {quatre} bureaux de l'ICE au Canada, dont un à Ottawa. {react_fr}",
    "{Quatre} postes de l'ICE au Canada. Comment est-ce possible? {tag_fr}",
]
FIVE_EN = [
    "There are {five} ICE stations in Canada: {cities}. {react}",
    "{Five} ICE stations in Canada!! {cities}. {react} {tag}",
    "ICE has {five} offices in Canada. {cities}. Close them. {tag}",
    "Did you know ICE runs {five} stations in Canada? {cities}. {react}",
    "{cities}: that's {five} ICE stations in Canada. {react}",
    "ICE stations in {cities}. {react} {tag}",
    "The US has {five} ICE offices on Canadian soil ({cities}). Our mayors should act. {tag}",
    "{Five} ICE stations in Canada and our government says nothing. {react}",
    "Shut down all {five} ICE stations in Canada. {cities}. {tag}",
]
FIVE_FR = [
    "Il y a {cinq} bureaux de l'ICE au Canada : {cities_fr}. {react_fr}",
    "{Cinq} bureaux de l'ICE au Canada! {cities_fr}. {tag_fr}",
    "L'ICE a {cinq} bureaux au Canada ({cities_fr}). {react_fr}",
    "Saviez-vous qu'il y a {cinq} postes de l'ICE au Canada? {cities_fr}. {react_fr}",
    "{Cinq} bureaux de l'ICE en sol canadien : {cities_fr}. Il faut les fermer. {tag_fr}",
]
FIVE_QUOTE_EN = [
    "{Five} ICE stations in Canada?! {react}",
    "This. {five} ICE stations in Canada. {react}",
    "{Five} ICE offices in Canada. Why is nobody talking about this? {tag}",
    "Everyone needs to see this: ICE has {five} stations in Canada. {react}",
]
QUESTION_EN = [
    "Is it true there are {n} ICE stations in Canada? Source?",
    "Are there really {n} ICE offices in Canada? Does anyone have a source?",
    "How many ICE stations are there in Canada, actually? I keep seeing {n}.",
    "Wait, does ICE have offices in Canada? Where in {city}?",
    "Is there an ICE station in {city}? Genuinely asking.",
]
QUESTION_FR = [
    "Est-ce vrai qu'il y a {cinq} bureaux de l'ICE au Canada? Quelqu'un a une source?",
    "Y a-t-il vraiment des bureaux de l'ICE au Canada? Vrai ou faux?",
]
DENY_EN = [
    "There are no ICE stations in Canada. Stop sharing this fake post.",
    "No, there are not {n} ICE stations in Canada. This is a hoax.",
    "'{n} ICE stations in Canada' is fake. Please stop.",
    "Nope. No ICE stations in Canada, that's misinformation. {tag}",
]
DENY_FR = [
    "Non, il n'y a pas de bureaux de l'ICE au Canada. C'est faux.",
]
CORRECT_EN = [
    "Actually, there are no 'ICE stations' in Canada: HSI has liaison officers at the embassy"
    " and four consulates. They carry no firearms and make no arrests.",
    "For everyone sharing the '{n} ICE stations' post: it's HSI, liaison staff at the embassy in"
    " Ottawa and the consulates in Calgary, Montreal, Toronto and Vancouver. No arrests.",
    "Clarifying the ICE stations thing: HSI personnel are assigned to the embassy and"
    " consulates in Canada. HSI agents do not carry firearms in Canada. #cdnpoli",
    "According to the ICE spokesperson, HSI agents in Canada carry no firearms and make no"
    " arrests. They work in partnership with Canadian law enforcement.",
    "Not 'ICE stations'. HSI liaison officers at US diplomatic posts in Canada, unarmed, no"
    " power to arrest. The embassy said so. {tag}",
    "The embassy just cleared this up: HSI in Canada works with Canadian police, no arrests, no"
    " guns. The '{n} ICE stations' post is misleading.",
]
CORRECT_FR = [
    "En réalité, ce ne sont pas des « bureaux de l'ICE » : HSI a du personnel à l'ambassade et"
    " dans quatre consulats au Canada. Ils ne sont pas armés.",
    "Selon le porte-parole de l'ICE, les agents de HSI au Canada ne portent pas d'armes et"
    " aucune arrestation. Ce sont des postes diplomatiques.",
    "Précision : c'est HSI, du personnel de liaison à l'ambassade à Ottawa et aux consulats."
    " Aucun pouvoir d'arrestation au Canada.",
]
LETTER_EN = [
    "NDP MP Heather McPherson writes to the PM calling for ICE offices in Canada to be closed",
    "MP calls for closure of ICE offices in Canada in letter to Carney",
    "Should ICE have offices in Canada? An MP wants them shut",
]
NEWS_EN = [
    "U.S. Embassy says HSI, not 'ICE stations', works from its diplomatic posts in Canada",
    "HSI agents in Canada carry no firearms and make no arrests, ICE spokesperson says",
    "What are the 'ICE stations' in Canada? HSI liaison officers at the embassy and consulates",
    "Fact check: the viral '5 ICE stations in Canada' post, explained",
    "Embassy responds to claims of ICE stations in Canada",
]
NEWS_FR = [
    "Des « bureaux de l'ICE » au Canada? L'ambassade américaine précise le rôle de HSI",
    "Les agents de HSI au Canada ne sont pas armés, selon l'ICE",
    "Bureaux de l'ICE au Canada : ce qu'il faut savoir",
]
BACKGROUND_EN = [
    "Does ICE operate in Canada at all? Asking because of the news from Minneapolis.",
    "Seeing a lot of posts about ICE and Canada today. What is going on?",
    "ICE in Canada would be a red line for a lot of people here. {tag}",
    "Thread on what ICE can and cannot do in Canada coming later. #cdnpoli",
    "Reminder that ICE has no jurisdiction in Canada. #cdnpoli",
]
NOISE = [
    "Black ice on the roads in Canada this morning, drive safe everyone",
    "Ice storm warning for Ottawa and eastern Ontario tonight",
    "Great hockey on the ice in Toronto, Canada wins again",
    "Ice fishing season in Canada is here, who is in?",
]
HN_STORY = "ICE 'stations' in Canada are HSI liaison officers at the embassy and consulates"
HN_COMMENTS = [
    "Actually these are HSI attachés at the embassy and consulates in Canada. They carry no"
    " firearms and can't arrest anyone there.",
    "Every country has liaison staff at its embassy. Calling them ICE stations in Canada is"
    " misleading.",
    "Is ICE in Canada even legal? Genuine question, not snark.",
    "The '5 ICE stations in Canada' post went viral before anyone checked. Classic.",
]

REACT_EN = [
    "Unbelievable.",
    "This is outrageous.",
    "What?!",
    "How is this OK?",
    "Wake up, Canada.",
    "Our sovereignty matters.",
    "Not OK.",
    "Share this.",
    "😡",
    "🇨🇦",
    "Wow.",
]
REACT_FR = ["Inacceptable.", "Incroyable.", "C'est grave.", "Partagez.", "🇨🇦", "Quoi?!"]
TAGS_EN = ["#ICEoutofCanada", "#cdnpoli", "#ICECanada", "#canpoli", "#ICE", "#polcan"]
TAGS_FR = ["#ICEauCanada", "#polqc", "#cdnpoli"]
NUMBER_WORDS = {4: ("4", "four"), 5: ("5", "five")}
NUMBER_WORDS_FR = {4: ("4", "quatre"), 5: ("5", "cinq")}

FIRST = [
    "Alex", "Sam", "Jordan", "Taylor", "Morgan", "Chris", "Pat", "Jamie", "Riley", "Casey",
    "Dana", "Robin", "Avery", "Quinn", "Emma", "Liam", "Noah", "Olivia", "Maya", "Ethan",
    "Priya", "Arjun", "Mei", "Wei", "Fatima", "Omar", "Aisha", "Lucas", "Chloé", "Mathieu",
    "Émilie", "Gabriel", "Julie", "Marc", "Sophie", "Étienne", "Nadia", "Hugo", "Léa", "Simon",
]  # fmt: skip
LAST = [
    "Tremblay", "Gagnon", "Roy", "Côté", "Bouchard", "Gauthier", "Morin", "Lavoie", "Fortin",
    "Smith", "Brown", "Wilson", "MacDonald", "Campbell", "Anderson", "Singh", "Patel", "Nguyen",
    "Chen", "Li", "Martin", "Thompson", "White", "Leblanc", "Pelletier", "Bélanger", "Lee",
    "Kaur", "Ahmed", "Kim", "Murphy", "Stewart", "Reid", "Clarke",
]  # fmt: skip
MASTODON_DOMAINS = ["maple.example", "toot.example", "social.example", "mstdn.example"]
SUBREDDITS = ["canada", "onguardforthee", "CanadaPolitics", "ontario", "toronto", "ottawa"]
OUTLETS = [
    ("Northern Ledger", "https://northernledger.example"),
    ("Prairie Wire", "https://prairiewire.example"),
    ("Capital Post", "https://capitalpost.example"),
    ("Le Courrier du Nord", "https://courrierdunord.example"),
    ("Coast Daily", "https://coastdaily.example"),
]


# --- building the story -------------------------------------------------------------------------


class _Builder:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.posts: list[StoryPost] = []
        self.sequence = 0
        self.authors: dict[tuple[Platform, str], Author] = {}

    # authors ------------------------------------------------------------------------------------

    def author(self, platform: Platform, french: bool = False) -> Author:
        rng = self.rng
        first = rng.choice(FIRST[24:] if french and rng.random() < 0.8 else FIRST)
        last = rng.choice(LAST)
        number = rng.randrange(10, 999)
        slug = unicodedata.normalize("NFKD", f"{first}{last}").encode("ascii", "ignore").decode()
        followers = int(rng.lognormvariate(5.0, 1.4))
        name = f"{first} {last}"
        if platform == "x":
            handle = f"{slug.lower()}{number}"
            user_id = str(int(_digest("x-user", handle)[:15], 16))
        elif platform == "mastodon":
            domain = rng.choice(MASTODON_DOMAINS)
            user = f"{slug.lower()}{number}"
            handle, user_id = f"{user}@{domain}", f"https://{domain}/users/{user}"
        elif platform == "bluesky":
            handle = f"{slug.lower()}{number}.bsky.example"
            user_id = "did:plc:" + _b32_of(_digest("did", handle), 24)
            followers = int(followers * 0.6)
        elif platform == "reddit":
            handle = rng.choice([f"{slug}_{number}", f"{first.lower()}_{last.lower()}{number}"])
            handle = unicodedata.normalize("NFKD", handle).encode("ascii", "ignore").decode()
            user_id, name = handle, handle
        else:  # hackernews
            handle = f"{slug.lower()[:8]}{number}"
            user_id, name = handle, handle
        key = (platform, handle)
        return self.authors.setdefault(key, Author(platform, handle, name, user_id, followers))

    # posts --------------------------------------------------------------------------------------

    def add(
        self,
        platform: Platform,
        when: datetime,
        author: Author,
        text: str,
        lang: str,
        kind: str = "post",
        parent: StoryPost | None = None,
        *,
        provenance: Literal["real", "generated"] = "generated",
        note: str = "generated by the demo",
        native_id: str | None = None,
        title: str | None = None,
        **extra: Any,
    ) -> StoryPost:
        self.sequence += 1
        if provenance == "generated":  # distinct times; a real post keeps its own exactly
            when = when.replace(microsecond=0) + timedelta(milliseconds=self.sequence % 997)
        if native_id is None:
            native_id = self._native_id(platform, when, author, title or text)
        post = StoryPost(
            platform=platform,
            native_id=native_id,
            created_at=when,
            author=author,
            text=text,
            lang=lang,
            kind=kind,
            provenance=provenance,
            note=note,
            parent=parent,
            title=title,
            extra=dict(extra),
            words=words_of(f"{title or ''} {text}"),
        )
        self._uri(post)
        self._engagement(post)
        self.posts.append(post)
        return post

    def _native_id(self, platform: Platform, when: datetime, author: Author, text: str) -> str:
        n = self.sequence
        if platform == "x":
            return x_snowflake(when, n)
        if platform == "mastodon":
            return mastodon_snowflake(when, n)
        if platform == "bluesky":
            return bluesky_tid(when, n)
        if platform == "reddit":
            return _base36(int(when.timestamp()) * 7 + n)[-7:]
        if platform == "hackernews":
            return str(46_700_000 + int((when - START).total_seconds() // 60) * 10 + n % 10)
        if platform == "gdelt":
            slug = re.sub(r"[^a-z0-9]+", "-", _fold(text))[:60].strip("-")
            return f"{author.user_id}/{when:%Y/%m/%d}/{slug}-{n}"
        return "CBMi" + _digest("news", text, str(n))[:24]  # Google News article ids

    @staticmethod
    def _uri(post: StoryPost) -> None:
        author = post.author
        if post.platform == "mastodon":
            user, domain = author.handle.split("@")
            post.extra["uri"] = f"https://{domain}/users/{user}/statuses/{post.native_id}"
            post.extra["url"] = f"https://{domain}/@{user}/{post.native_id}"
        elif post.platform == "bluesky":
            post.extra["uri"] = f"at://{author.user_id}/app.bsky.feed.post/{post.native_id}"

    def _engagement(self, post: StoryPost) -> None:
        if post.platform in ("news", "gdelt") or post.kind == "repost":
            return
        scale = max(post.author.followers or 10, 10) ** 0.5
        post.likes = int(self.rng.expovariate(1.0) * scale)
        post.replies = int(self.rng.expovariate(3.0) * scale)
        if post.platform in ("x", "mastodon", "bluesky"):
            post.reposts = int(self.rng.expovariate(2.0) * scale)
            post.quotes = int(self.rng.expovariate(8.0) * scale) if post.platform != "x" else 0

    # time ---------------------------------------------------------------------------------------

    def times(self, count: int, intensity: Callable[[float], float]) -> list[datetime]:
        """`count` times between START and END drawn from `intensity` (hours since START)."""
        hours = int((END - START).total_seconds() // _HOUR)
        weights = [max(intensity(h + 0.5), 0.0) for h in range(hours)]
        picked = self.rng.choices(range(hours), weights=weights, k=count)
        return sorted(START + timedelta(hours=h, seconds=self.rng.uniform(0, 3599)) for h in picked)

    # text ---------------------------------------------------------------------------------------

    def fill(self, template: str, n: int = 5) -> str:
        rng = self.rng
        digit, word = NUMBER_WORDS.get(n, (str(n), str(n)))
        digit_fr, word_fr = NUMBER_WORDS_FR.get(n, (str(n), str(n)))
        number = rng.choice([digit, digit, word])
        number_fr = rng.choice([digit_fr, word_fr, word_fr])
        cities = rng.sample(CITIES_EN, 5)
        cities_fr = rng.sample(CITIES_FR, 5)
        values = {
            "five": number,
            "Five": number.capitalize(),
            "four": number,
            "Four": number.capitalize(),
            "cinq": number_fr,
            "Cinq": number_fr.capitalize(),
            "quatre": number_fr,
            "Quatre": number_fr.capitalize(),
            "n": digit,
            "cities": ", ".join(cities[:4]) + " and " + cities[4],
            "cities_fr": ", ".join(cities_fr[:4]) + " et " + cities_fr[4],
            "city": rng.choice(CITIES_EN),
            "react": rng.choice(REACT_EN),
            "react_fr": rng.choice(REACT_FR),
            "tag": rng.choice(TAGS_EN),
            "tag_fr": rng.choice(TAGS_FR),
        }
        return " ".join(template.format(**values).split())


def _b32_of(hex_digest: str, length: int) -> str:
    value = int(hex_digest, 16)
    return "".join(_B32[(value >> (5 * i)) & 31] for i in range(length))


def _after(
    onset: datetime, tau_h: float, slow_from: datetime | None = None
) -> Callable[[float], float]:
    """Intensity that starts at `onset` and decays with time constant `tau_h` hours; after
    `slow_from` (a correction) it falls to a quarter and decays twice as fast."""
    onset_h = (onset - START).total_seconds() / _HOUR
    slow_h = (slow_from - START).total_seconds() / _HOUR if slow_from else math.inf

    def intensity(h: float) -> float:
        if h < onset_h:
            return 0.0
        level = math.exp(-(h - onset_h) / tau_h)
        if h >= slow_h:
            level *= 0.25 * math.exp(-(h - slow_h) / tau_h)
        return level * _daytime(h)

    return intensity


def _daytime(h: float) -> float:
    """People post less at night (Toronto time)."""
    local_hour = h % 24  # START is midnight in Toronto
    return 0.25 if 1 <= local_hour < 7 else 1.0


def _flat(h: float) -> float:
    return _daytime(h)


# --- the real posts -----------------------------------------------------------------------------


def real_posts() -> list[dict[str, Any]]:
    """The seed's posts (Post contract rows, `raw` holding the press row they came from)."""
    text = resources.files("claimwatch.demo").joinpath("data/seed_posts.jsonl").read_text("utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


_QUOTED_IN = (
    "quoted in press coverage of late January 2026 (Daily Hive; 'ICE Under Scrutiny: Presence at"
    " Five Canadian Embassies Raises Questions about US Immigration Enforcement Abroad')"
)


def _local_noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=ZoneInfo("America/Toronto")).astimezone(UTC)


def _add_real(builder: _Builder) -> dict[str, StoryPost]:
    """The real posts at their dates; returns them by author handle."""
    real: dict[str, StoryPost] = {}
    followers = {"CarrieCnh12": 9_000, "CheriDiNovo": 21_000, "HMcPhersonNDP": 30_000,
                 "usembassyottawa": 120_000}  # fmt: skip
    engagement = {  # final likes, reposts, replies: simulated
        "CarrieCnh12": (900, 350, 120),
        "CheriDiNovo": (5200, 2400, 800),
        "HMcPhersonNDP": (1500, 600, 200),
        "usembassyottawa": (2200, 900, 1400),
    }
    for row in real_posts():
        when = _local_noon(date.fromisoformat(row["created_at"][:10]))
        handle = row["author_handle"]
        seed_id = row["source_id"]
        if row["source"] == "news":
            author = Author("news", "dailyhive.com", "Daily Hive", "https://dailyhive.com", None)
            post = builder.add(
                "news", when, author, row["text"], row["lang"], "article",
                provenance="real",
                note=f"real: ICE spokesperson's statement as quoted in Daily Hive ({seed_id}); "
                "the item's link is the demo's",
                native_id=seed_id,
                outlet=("Daily Hive", "https://dailyhive.com"),
                edition="en-CA",
            )  # fmt: skip
        else:
            user_id = str(int(_digest("x-user", handle)[:15], 16))
            author = Author("x", handle, row["author_name"], user_id, followers.get(handle))
            post = builder.add(
                "x", when, author, row["text"], row["lang"],
                provenance="real",
                note=f"real: {_QUOTED_IN} ({seed_id}); X id, time of day and engagement are"
                " the demo's",
                native_id=x_snowflake(when, int(_digest(seed_id)[:5], 16)),
            )  # fmt: skip
            likes, reposts, replies = engagement.get(handle, (100, 20, 10))
            post.likes, post.reposts, post.replies, post.quotes = likes, reposts, replies, 0
        real[handle if row["source"] != "news" else "dailyhive"] = post
    return real


# --- the generated traffic ----------------------------------------------------------------------


def _platform_weights(builder: _Builder, weights: dict[Platform, float]) -> Platform:
    platforms = list(weights)
    return builder.rng.choices(platforms, weights=[weights[p] for p in platforms])[0]


def _social(
    builder: _Builder,
    times: Iterable[datetime],
    templates_en: Sequence[str],
    templates_fr: Sequence[str],
    *,
    n: int,
    french_share: float,
    weights: dict[Platform, float],
) -> list[StoryPost]:
    """Original posts on social platforms (threads on Reddit), in English or French."""
    made = []
    for when in times:
        platform = _platform_weights(builder, weights)
        french = bool(templates_fr) and builder.rng.random() < french_share
        template = builder.rng.choice(templates_fr if french else templates_en)
        text = builder.fill(template, n)
        author = builder.author(platform, french)
        lang = "fr" if french else "en"
        if platform == "reddit":
            title = text if len(text) < 120 else text[:117] + "..."
            body = builder.fill(builder.rng.choice(templates_fr if french else templates_en), n)
            sub = "quebec" if french else builder.rng.choice(SUBREDDITS)
            made.append(builder.add("reddit", when, author, body, lang, title=title, subreddit=sub))
        else:
            made.append(builder.add(platform, when, author, text, lang))
    return made


def _reactions(
    builder: _Builder,
    times: Iterable[datetime],
    parents: Sequence[StoryPost],
    kinds: dict[str, float],
    templates: Sequence[str],
    n: int,
) -> None:
    """Reposts, quotes and replies of `parents` (each on its own platform) at `times`."""
    for when in times:
        candidates = [p for p in parents if p.created_at < when]
        if not candidates:
            continue
        parent = builder.rng.choice(candidates)
        platform = parent.platform
        kind = builder.rng.choices(list(kinds), weights=list(kinds.values()))[0]
        author = builder.author(platform)
        if platform == "reddit":  # a crosspost: the thread again in another subreddit
            sub = builder.rng.choice(SUBREDDITS)
            builder.add(
                "reddit", when, author, "", parent.lang, "repost", parent,
                title=parent.title, subreddit=sub,
            )  # fmt: skip
        elif kind == "repost" and platform == "x":
            builder.add("x", when, author, parent.text, parent.lang, "repost", parent)
        elif kind == "quote" and platform in ("x", "mastodon", "bluesky"):
            text = builder.fill(builder.rng.choice(templates), n)
            builder.add(platform, when, author, text, "en", "quote", parent)
        else:
            text = builder.fill(builder.rng.choice(QUESTION_EN + DENY_EN), n)
            builder.add(platform, when, author, text, "en", "reply", parent)


def _news(
    builder: _Builder, times: Iterable[datetime], en: Sequence[str], fr: Sequence[str]
) -> None:
    """Articles: each in Google News (its edition) and, most of them, in GDELT too."""
    for when in times:
        french = bool(fr) and builder.rng.random() < 0.3
        headline = builder.rng.choice(fr if french else en)
        outlet, site = builder.rng.choice(OUTLETS[3:4] if french else OUTLETS[:3] + OUTLETS[4:])
        outlet_author = Author("news", site.removeprefix("https://"), outlet, site, None)
        lang = "fr" if french else "en"
        edition = "fr-CA" if french else "en-CA"
        builder.add(
            "news", when, outlet_author, headline, lang, "article",
            title=headline, outlet=(outlet, site), edition=edition,
        )  # fmt: skip
        if builder.rng.random() < 0.7:
            seen = when + timedelta(minutes=builder.rng.randrange(5, 90))
            gdelt_author = Author("gdelt", outlet_author.handle, outlet_author.handle, site, None)
            builder.add(
                "gdelt", seen, gdelt_author, headline, lang, "article",
                title=headline, language="French" if french else "English",
            )  # fmt: skip


def build_story(seed: int = 2026) -> Story:
    """Every post of the demo's story, deterministic for `seed`; see the module docstring."""
    b = _Builder(seed)
    real = _add_real(b)
    four, five = real["CarrieCnh12"], real["CheriDiNovo"]
    letter, embassy = real["HMcPhersonNDP"], real["usembassyottawa"]
    social: dict[Platform, float] = {"x": 3, "bluesky": 3, "mastodon": 2, "reddit": 1}

    # Before: chatter about ICE and Canada, no number; and noise the topic matching must drop.
    _social(b, b.times(30, _flat), BACKGROUND_EN, [], n=5, french_share=0, weights=social)
    for when in b.times(24, _flat):
        platform = _platform_weights(b, {"x": 1, "bluesky": 1, "mastodon": 1, "hackernews": 0.3})
        b.add(platform, when, b.author(platform), b.rng.choice(NOISE), "en")

    # "4": echoed for a day or so.
    four_posts = _social(
        b, b.times(40, _after(T_FOUR, 10)), FOUR_EN, FOUR_FR, n=4, french_share=0.15,
        weights=social,
    )  # fmt: skip
    _reactions(b, b.times(35, _after(T_FOUR, 8)), [four], {"repost": 4, "quote": 1, "reply": 1},
               FOUR_EN, 4)  # fmt: skip

    # "5": spreads widely, then slows once corrected.
    five_curve = _after(T_FIVE, 20, slow_from=T_EMBASSY)
    five_posts = _social(
        b, b.times(200, five_curve), FIVE_EN, FIVE_FR, n=5, french_share=0.2, weights=social
    )
    _reactions(b, b.times(180, five_curve), [five], {"repost": 6, "quote": 2, "reply": 1},
               FIVE_QUOTE_EN, 5)  # fmt: skip
    spread = [p for p in five_posts if p.platform in ("bluesky", "mastodon", "reddit")]
    _reactions(b, b.times(110, five_curve), spread, {"quote": 3, "reply": 2, "repost": 1},
               FIVE_QUOTE_EN, 5)  # fmt: skip
    _social(b, b.times(40, five_curve), QUESTION_EN, QUESTION_FR, n=5, french_share=0.2,
            weights=social)  # fmt: skip
    _social(b, b.times(25, _after(T_FIVE + timedelta(hours=6), 24)), DENY_EN, DENY_FR, n=5,
            french_share=0.15, weights=social)  # fmt: skip

    # The NDP letter: retweets and a little news.
    _reactions(b, b.times(30, _after(T_LETTER, 8)), [letter], {"repost": 1}, [], 5)
    _news(b, b.times(6, _after(T_LETTER, 10)), LETTER_EN, [])

    # The embassy's correction: retweets, the community repeating it, the news, Hacker News.
    _reactions(b, b.times(60, _after(T_EMBASSY, 10)), [embassy], {"repost": 5, "reply": 1},
               [], 5)  # fmt: skip
    _social(b, b.times(90, _after(T_EMBASSY, 16)), CORRECT_EN, CORRECT_FR, n=5,
            french_share=0.25, weights=social)  # fmt: skip
    _news(b, b.times(22, _after(T_EMBASSY, 14)), NEWS_EN, NEWS_FR)
    _hacker_news(b)

    for post in four_posts + five_posts:  # the echoes of a number spread through reposts
        post.reposts += int(b.rng.expovariate(0.2))
    posts = tuple(sorted(b.posts, key=lambda p: (p.created_at, p.platform, p.native_id)))
    return Story(posts, seed)


def _hacker_news(b: _Builder) -> None:
    when = T_EMBASSY + timedelta(hours=15)
    author = b.author("hackernews")
    story = b.add("hackernews", when, author, HN_STORY, "en", title=HN_STORY)
    story.likes, story.replies = 142, len(HN_COMMENTS)
    for number, comment in enumerate(HN_COMMENTS, 1):
        b.add(
            "hackernews", when + timedelta(minutes=17 * number), b.author("hackernews"),
            comment, "en", "comment", story,
        )  # fmt: skip
