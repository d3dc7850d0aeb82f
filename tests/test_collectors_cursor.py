"""The shared resumable cursor: lenient loading, the saved JSON, a page's state, the gap merge."""

from __future__ import annotations

from collectors.cursor import (
    DIGITS,
    INTEGER,
    SECONDS,
    Codec,
    Cursor,
    CursorFormat,
    bare_json,
    lower,
    newest_of,
    oldest_of,
    passes,
)


class Timed(Cursor[float, str]):
    """A gap that starts at a listing position, as Reddit's does."""

    FORMAT = CursorFormat("test", SECONDS, Codec(str), "after", bare_json(SECONDS.parse))


def pair(value: object) -> tuple[int, int]:
    if not (isinstance(value, list) and len(value) == 2):
        raise ValueError("not [lo, hi]")
    return int(value[0]), int(value[1])


class Interval(Cursor[int, tuple[int, int]]):
    """A gap written as one `[lo, hi]` value, as Hacker News's is."""

    FORMAT = CursorFormat("test", INTEGER, Codec(pair, list), "gap", bare_json(INTEGER.parse), None)


def test_no_text_and_a_bare_value_load_leniently() -> None:
    assert Timed.load(None) == Timed.load("") == Timed()
    assert Timed.load("1700000000") == Timed(newest=1700000000.0)
    assert Interval.load("17.9") == Interval(newest=17)


def test_anything_unreadable_starts_afresh() -> None:
    for text in ("{not json", "null", "[1, 2]", '"t3_a"', '{"newest": "soon"}', '{"floor": true}'):
        assert Timed.load(text) == Timed(), text
    assert Interval.load('{"newest": 5, "gap": [1]}') == Interval()


def test_a_floor_without_a_gap_is_dropped() -> None:
    assert Timed.load('{"newest": 10, "floor": 5}') == Timed(newest=10.0)
    assert Timed.load('{"newest": 10, "after": "t3_a", "floor": 5}') == Timed(10.0, "t3_a", 5.0)


def test_the_saved_json_keeps_each_source_s_field_names() -> None:
    assert Timed().dump() is None
    assert Timed(10.0).dump() == '{"newest":10.0}'
    assert Timed(10.0, "t3_a").dump() == '{"newest":10.0,"after":"t3_a","floor":null}'
    assert Interval(20, (5, 15)).dump() == '{"newest":20,"gap":[5,15]}'
    assert Interval.load('{"newest":20,"gap":[5,15]}') == Interval(20, (5, 15))


def test_a_page_with_unread_posts_below_it_leaves_one_gap_covering_the_pending_one() -> None:
    state = Timed(100.0, "t3_old", 40.0)
    assert state.after_page(130.0, "t3_new", 90.0) == Timed(130.0, "t3_new", 40.0)
    assert Timed(100.0).after_page(130.0, "t3_new", 90.0) == Timed(130.0, "t3_new", 90.0)
    assert Timed(100.0, "t3_old", None).after_page(130.0, "t3_new", 90.0).floor is None


def test_a_page_with_nothing_unread_below_it_keeps_or_drops_the_pending_gap() -> None:
    state = Timed(100.0, "t3_old", 40.0)
    assert state.after_page(130.0) == Timed(130.0, "t3_old", 40.0)
    assert state.after_page(130.0, pending=False) == Timed(130.0)
    assert state.after_page(130.0, "t3_next", 40.0, pending=False) == Timed(130.0, "t3_next", 40.0)


def test_the_order_helpers() -> None:
    assert lower(None, 3.0) is None
    assert lower(5.0, 3.0) == 3.0
    assert passes([5.0, 2.0], 3.0)
    assert not passes([5.0, 2.0], None)
    assert newest_of(None, []) is None
    assert newest_of(4, [1, 9, 3]) == 9
    assert newest_of("999", ["1000", "998"], key=int) == "1000"  # ids compare as numbers
    assert oldest_of(None, ["1000", "999"], key=int) == "999"
    assert DIGITS.parse("123") == "123"
