"""`claimwatch import`: every good row loads once; every bad row is named by line and reason."""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import FIXTURES, CliResult

Cli = Callable[..., CliResult]
GOOD = {
    "source": "x",
    "source_id": "1",
    "created_at": "2026-01-28T10:00:00Z",
    "text": "BREAKING: There are 5 #ICE stations Canada!!",
}


def jsonl(path: Path, *rows: object) -> Path:
    lines = [r if isinstance(r, bytes) else json.dumps(r).encode() for r in rows]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def good(i: int, **fields: object) -> dict[str, object]:
    return {**GOOD, "source_id": str(i), **fields}


def stored(
    db_path: Path, query: str = "SELECT source_id FROM posts ORDER BY source_id::INT"
) -> list[tuple[object, ...]]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute(query).fetchall()


def test_the_seed_story_imports_and_reimports_once(cli: Cli, db_path: Path) -> None:
    first = cli("import", str(FIXTURES / "seed_posts.jsonl"))
    again = cli("import", str(FIXTURES / "seed_posts.jsonl"))
    assert (first.code, again.code) == (0, 0)
    assert stored(db_path, "SELECT count(*), count(DISTINCT post_uid) FROM posts") == [(5, 5)]
    assert stored(
        db_path, "SELECT fetched, new, status FROM collector_runs ORDER BY started_at"
    ) == [(5, 5, "ok"), (5, 0, "ok")]


def test_a_date_without_a_time_is_noon_in_the_configs_time_zone(
    cli: Cli, db_path: Path, tmp_path: Path
) -> None:
    """A post known only by its day stands at noon that day in Toronto (EST, then EDT); a time
    given is kept as given."""
    rows = [good(1, created_at="2026-01-30"), good(2, created_at="2026-07-01")]
    rows.append(good(3, created_at="2026-01-30T00:00:00Z"))
    assert cli("import", str(jsonl(tmp_path / "days.jsonl", *rows))).code == 0
    assert stored(
        db_path,
        "SELECT source_id, strftime(created_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M') FROM posts"
        " ORDER BY source_id",
    ) == [("1", "2026-01-30 17:00"), ("2", "2026-07-01 16:00"), ("3", "2026-01-30 00:00")]


def test_the_seed_posts_stand_where_the_demo_serves_them(cli: Cli, db_path: Path) -> None:
    """Imported or replayed by the demo, each real post of the story has one time: the
    embassy's correction of 2026-01-30 is on the 30th in Toronto, not the evening before."""
    from claimwatch.demo.traffic import build_story

    assert cli("import", str(FIXTURES / "seed_posts.jsonl")).code == 0
    imported = dict(stored(db_path, "SELECT text, created_at FROM posts"))
    real = [post for post in build_story(2026).posts if post.provenance == "real"]
    assert imported == {post.text: post.created_at for post in real}
    embassy = stored(db_path, "SELECT created_at FROM posts WHERE source_id = 'seed-2edd4d7abbfd'")
    assert str(embassy[0][0]) == "2026-01-30 17:00:00+00:00"


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (good(2, source_id=None), "line 2: source_id: missing"),
        ({k: v for k, v in good(2).items() if k != "text"}, "line 2: text: missing"),
        (
            good(2, created_at="28/01/2026"),
            "line 2: created_at: cannot read '28/01/2026' as an ISO 8601",
        ),
        (
            good(2, created_at=1769594400),
            "line 2: created_at: expected an ISO 8601 date-time string, got a number",
        ),
        (good(2, likes="many"), "line 2: likes: expected a whole number >= 0, got 'many'"),
        (good(2, likes=-3), "line 2: likes: expected a whole number >= 0, got '-3'"),
        (good(2, likes=2.5), "line 2: likes: expected a whole number >= 0, got '2.5'"),
        (
            good(2, text={"html": "<p>5 stations</p>"}),
            "line 2: text: expected a string, got an object",
        ),
        (good(2, kind="tweet"), "line 2: kind: 'tweet' is not one of post, reply"),
        (good(2, source="Twit ter"), "line 2: source: 'Twit ter' is not a source name"),
        (
            b'{"source": "x", "source_id": "2", "created_at": "2026-01-28", "text": "caf\xe9"}',
            "line 2: not valid UTF-8 text",
        ),
        (
            b'{"source": "x", "source_id": "2", "created_at": ',
            "line 2: not a JSON object: cannot parse",
        ),
        ([1, 2], "line 2: not a JSON object: the line holds a list"),
        (
            good(2, text="a" * (10 << 20)),
            "line 2: text: 10,485,760 bytes, over the limit of 1,048,576",
        ),
    ],
)
def test_a_bad_row_is_reported_by_line_and_the_good_rows_load(
    cli: Cli, db_path: Path, tmp_path: Path, row: object, reason: str
) -> None:
    result = cli("import", str(jsonl(tmp_path / "p.jsonl", good(1), row, good(3))))
    assert result.code == 1
    assert reason in " ".join(result.err.split())
    assert stored(db_path) == [("1",), ("3",)]
    assert stored(db_path, "SELECT location, status FROM store.quarantine, collector_runs") == [
        (f"{tmp_path / 'p.jsonl'}:2", "partial")
    ]


def test_every_reason_of_a_row_is_given_at_once(cli: Cli, tmp_path: Path) -> None:
    row = {"source": "x", "created_at": "yesterday", "text": "t", "likes": "lots"}
    result = cli("import", str(jsonl(tmp_path / "p.jsonl", row)))
    message = " ".join(result.err.split())
    for reason in ("source_id: missing", "created_at: cannot read 'yesterday'", "likes: expected"):
        assert reason in message


def test_blank_lines_crlf_and_a_byte_order_mark_are_not_errors(
    cli: Cli, db_path: Path, tmp_path: Path
) -> None:
    body = (
        b"\xef\xbb\xbf"
        + json.dumps(good(1)).encode()
        + b"\r\n\r\n   \n"
        + json.dumps(good(2)).encode()
    )
    (tmp_path / "p.jsonl").write_bytes(body)
    assert cli("import", str(tmp_path / "p.jsonl")).code == 0
    assert stored(db_path) == [("1",), ("2",)]


def test_fields_are_mapped_to_the_post_contract(cli: Cli, db_path: Path, tmp_path: Path) -> None:
    row = good(
        7,
        kind="Reply",
        parent_uid="6",
        likes="12",
        author_followers=3.0,
        lang="FR",
        created_at="2026-01-28 10:00:00+02:00",
        text="Il y a cinq\u0000 postes",
        raw={"id": 7, "nested": {"a": [1]}},
    )
    cli("import", str(jsonl(tmp_path / "p.jsonl", row)))
    assert stored(
        db_path,
        "SELECT post_uid, kind, parent_uid, likes, author_followers, lang,"
        " created_at::VARCHAR, text, raw->>'$.nested.a[0]' FROM posts",
    ) == [("x:7", "reply", "x:6", 12, 3, "fr", "2026-01-28 08:00:00+00", "Il y a cinq postes", "1")]


def test_the_whole_record_is_kept_as_raw_when_no_raw_field_is_given(
    cli: Cli, db_path: Path, tmp_path: Path
) -> None:
    cli("import", str(jsonl(tmp_path / "p.jsonl", good(1, extra_field="kept"))))
    assert stored(db_path, "SELECT raw->>'$.extra_field' FROM posts") == [("kept",)]


def test_csv_rows_are_reported_by_row_number(cli: Cli, db_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(
        b"source,source_id,created_at,text,likes\n"
        b'x,1,2026-01-27T10:00:00Z,"4 ICE stations, in Canada",3\n'
        b"x,2,2026-01-28,bad \xff bytes,1\n"
        b"x,3,not a date,five stations,1\n"
        b"x,4,2026-01-29,too,many,fields\n"
        b"x,5,2026-01-30,fine,\n"
    )
    result = cli("import", str(path))
    err = " ".join(result.err.split())
    assert result.code == 1
    assert "line 3: not valid UTF-8 text" in err
    assert "line 4: created_at: cannot read 'not a date'" in err
    assert "line 5: too many columns" in err
    assert stored(db_path) == [("1",), ("5",)]


def test_parquet_rows_with_wrong_types_are_rejected(
    cli: Cli, db_path: Path, tmp_path: Path
) -> None:
    table = pa.table(
        {
            "source": ["x", "x", "x"],
            "source_id": [1, 2, 3],
            "created_at": pa.array([1, None, 3], pa.timestamp("s", "UTC")),
            "text": ["four", "five", "cinq"],
            "likes": ["1", "2", "x"],
        }
    )
    pq.write_table(table, tmp_path / "p.parquet")
    result = cli("import", str(tmp_path / "p.parquet"))
    err = " ".join(result.err.split())
    assert "line 2: created_at: missing" in err
    assert "line 3: likes: expected a whole number >= 0, got 'x'" in err
    assert stored(db_path, "SELECT source_id, created_at::VARCHAR, likes FROM posts") == [
        ("1", "1970-01-01 00:00:01+00", 1)
    ]


def test_a_file_that_cannot_be_read_at_all_exits_2(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps([GOOD]))
    refused = cli("import", str(tmp_path / "a.json"))
    missing = cli("import", str(tmp_path / "nope.jsonl"))
    assert (refused.code, missing.code) == (2, 2)
    assert "holds a JSON array" in refused.err and "no such file" in missing.err


def test_rejects_can_be_written_to_a_file(cli: Cli, tmp_path: Path) -> None:
    cli(
        "import",
        str(jsonl(tmp_path / "p.jsonl", good(1, likes="x"), good(2))),
        "--rejects",
        str(tmp_path / "rejects.csv"),
    )
    with (tmp_path / "rejects.csv").open(newline="") as handle:
        table = list(csv.reader(handle))
    assert [row[:2] for row in table] == [
        ["line", "reason"],
        ["1", "likes: expected a whole number >= 0, got 'x'"],
    ]
    assert table[1][2].startswith('{"source": "x", "source_id": "1"')


def test_html_markup_and_odd_unicode_are_stored_exactly_as_given(
    cli: Cli, db_path: Path, tmp_path: Path
) -> None:
    texts = [
        "<script>alert(1)</script> [link](javascript:alert(1)) 5 ICE stations",
        "RTL \u202eoverride\u202c, zero\u200bwidth, e\u0301, 🇨🇦 emoji, «cinq» postes",
        "line one\r\nline two\ttab",
    ]
    rows = [good(i, text=t) for i, t in enumerate(texts)]
    assert cli("import", str(jsonl(tmp_path / "p.jsonl", *rows))).code == 0
    assert stored(db_path, "SELECT text FROM posts ORDER BY source_id") == [(t,) for t in texts]


def test_a_zero_width_space_or_an_emoji_does_not_change_the_content_hash(
    cli: Cli, db_path: Path, tmp_path: Path
) -> None:
    rows = [
        good(1, text="5 ICE stations in Canada 🇨🇦"),
        good(2, text="5 ICE\u200b stations, in CANADA!"),
    ]
    cli("import", str(jsonl(tmp_path / "p.jsonl", *rows)))
    assert stored(db_path, "SELECT count(DISTINCT content_hash) FROM posts") == [(1,)]


def test_gzipped_json_lines_and_csv_import_like_plain_ones(
    cli: Cli, db_path: Path, tmp_path: Path
) -> None:
    plain = jsonl(tmp_path / "p.jsonl", good(1), good(2, likes="x"))
    (tmp_path / "p.jsonl.gz").write_bytes(gzip.compress(plain.read_bytes()))
    (tmp_path / "q.csv.gz").write_bytes(
        gzip.compress(b"source,source_id,created_at,text\nx,3,2026-01-29,t\n")
    )
    first = cli("import", str(tmp_path / "p.jsonl.gz"))
    assert first.code == 1 and "line 2: likes: expected a whole number" in " ".join(
        first.err.split()
    )
    assert cli("import", str(tmp_path / "q.csv.gz")).code == 0
    assert stored(db_path) == [("1",), ("3",)]
