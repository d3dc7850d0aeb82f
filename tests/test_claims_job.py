"""`claimwatch analyze`: incremental claim analysis over a real warehouse file.

Every test runs the real engine (`claims.engine`) over posts written with `Warehouse.write`, and
reads back what the analysis stored.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
import tomli_w
from conftest import CliResult

from claims.job import AnalysisReport, UnknownClaimError, analyze_warehouse
from config import Config, load_config
from warehouse import Batch, Warehouse, migrations
from warehouse import analysis as store_analysis

CONFIG = Path(__file__).parent.parent / "config" / "claimwatch.toml"
OFFICES = "ice-offices-canada"
ARMED = "ice-armed-operations-canada"
T0 = datetime(2026, 1, 27, 12, 0, tzinfo=UTC)

FIVE = "There are 5 ICE stations in Canada"
FOUR = "There are 4 ICE stations in Canada"
ARMED_TEXT = "ICE agents in Canada are armed and make arrests"
NOISE = "Hockey on the ice tonight in Toronto, great game"
RT_CUT = "RT @someone: There are 5 ICE"  # X's cut copy of a retweet: no mention of its own


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(CONFIG)


def posts(*rows: dict[str, Any]) -> pa.Table:
    """Posts from short dicts: `id` (source x unless `source`), `text`, `minute`, `kind`,
    `parent`; the rest of the Post fields as given."""
    columns: dict[str, list[Any]] = {
        "source": [],
        "source_id": [],
        "created_at": [],
        "text": [],
        "kind": [],
        "parent_uid": [],
        "author_handle": [],
    }
    for row in rows:
        columns["source"].append(row.get("source", "x"))
        columns["source_id"].append(str(row["id"]))
        columns["created_at"].append(T0 + timedelta(minutes=row.get("minute", 0)))
        columns["text"].append(row["text"])
        columns["kind"].append(row.get("kind", "post"))
        columns["parent_uid"].append(row.get("parent"))
        columns["author_handle"].append(row.get("author", f"user{row['id']}"))
    return pa.table(
        columns | {"created_at": pa.array(columns["created_at"], pa.timestamp("us", "UTC"))}
    )


def mentions(warehouse: Warehouse) -> set[tuple[Any, ...]]:
    """What the analysis stored, without the time it was stored at."""
    with warehouse.reading() as con:
        return set(
            con.execute(
                "SELECT post_uid, claim_id, variant, stance, matched_text, span_start, span_end,"
                " origin_uid, claim_version FROM store.claim_mentions"
            ).fetchall()
        )


def table(warehouse: Warehouse, query: str) -> list[tuple[Any, ...]]:
    with warehouse.reading() as con:
        return con.execute(query).fetchall()


def everything(warehouse: Warehouse) -> tuple[list[tuple[Any, ...]], ...]:
    return tuple(
        table(warehouse, f"SELECT * FROM store.{name} ORDER BY ALL")
        for name in ("claim_mentions", "corrections", "analysis_state")
    )


def by_claim(report: AnalysisReport) -> dict[str, tuple[str, int]]:
    return {c.claim_id: (c.mode, c.posts_read) for c in report.claims}


def write_config(path: Path, change: Callable[[dict[str, Any]], None]) -> Config:
    data = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
    change(data)
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return load_config(path)


def test_a_first_run_analyses_every_post_and_a_second_changes_nothing(
    warehouse: Warehouse, config: Config
) -> None:
    warehouse.write(
        Batch(
            posts=posts(
                {"id": 1, "text": FIVE},
                {"id": 2, "text": FOUR, "minute": 5},
                {"id": 3, "text": NOISE},
                {"id": 4, "text": ARMED_TEXT},
            )
        )
    )
    first = analyze_warehouse(warehouse, config)
    assert by_claim(first) == {OFFICES: ("full", 4), ARMED: ("full", 4)}
    assert table(
        warehouse, "SELECT post_uid, claim_id, variant, stance FROM claim_mentions ORDER BY ALL"
    ) == [
        ("x:1", OFFICES, "5", "asserts"),
        ("x:2", OFFICES, "4", "asserts"),
        ("x:4", ARMED, None, "asserts"),
    ]
    counts = {c.claim_id: (c.mentions, c.corrections) for c in first.claims}
    assert counts == {OFFICES: (2, 0), ARMED: (1, 0)}
    before = everything(warehouse)

    second = analyze_warehouse(warehouse, config)
    assert by_claim(second) == {OFFICES: ("unchanged", 0), ARMED: ("unchanged", 0)}
    assert second.posts_read == 0
    assert everything(warehouse) == before
    runs = table(
        warehouse,
        "SELECT status, fetched, new FROM collector_runs WHERE source = 'analysis'"
        " ORDER BY started_at",
    )
    assert runs == [("ok", 4, 3), ("ok", 0, 0)]


def test_an_incremental_run_analyses_only_the_new_posts(
    warehouse: Warehouse, config: Config
) -> None:
    warehouse.write(Batch(posts=posts({"id": 1, "text": FIVE}, {"id": 2, "text": NOISE})))
    analyze_warehouse(warehouse, config)
    first_rows = table(warehouse, "SELECT post_uid, analyzed_at FROM store.claim_mentions")

    warehouse.write(
        Batch(
            posts=posts(
                {"id": 3, "text": FOUR},
                {"id": 4, "text": NOISE},
                {"id": 5, "text": ARMED_TEXT},
            )
        )
    )
    report = analyze_warehouse(warehouse, config)
    assert by_claim(report) == {OFFICES: ("incremental", 3), ARMED: ("incremental", 3)}
    assert report.posts_read == 3
    rows = table(warehouse, "SELECT post_uid, analyzed_at FROM store.claim_mentions")
    assert set(first_rows) <= set(rows)  # the earlier rows were not written again
    assert sorted(r[0] for r in rows) == ["x:1", "x:3", "x:5"]
    states = table(warehouse, "SELECT claim_id, analyzed_through FROM store.analysis_state")
    assert sorted(states) == [(ARMED, 5), (OFFICES, 5)]

    incremental = mentions(warehouse)
    assert by_claim(analyze_warehouse(warehouse, config, full=True)) == {
        OFFICES: ("full", 5),
        ARMED: ("full", 5),
    }
    assert mentions(warehouse) == incremental  # the same as analysing everything at once


def test_posts_read_in_small_ranges_give_the_same_result_with_progress(
    tmp_path: Path, config: Config
) -> None:
    batch = posts(
        *({"id": i, "text": [FIVE, FOUR, NOISE, ARMED_TEXT][i % 4], "minute": i} for i in range(10))
    )
    one, many = Warehouse(tmp_path / "one.duckdb"), Warehouse(tmp_path / "many.duckdb")
    one.write(Batch(posts=batch))
    many.write(Batch(posts=batch))
    seen: list[tuple[int, int]] = []
    analyze_warehouse(one, config)
    report = analyze_warehouse(
        many, config, chunk_rows=3, progress=lambda done, total: seen.append((done, total))
    )
    assert seen == [(3, 10), (6, 10), (9, 10), (10, 10)]
    assert report.posts_read == 10
    assert mentions(one) == mentions(many)
    assert len(mentions(many)) == 8


def test_changing_a_claims_definition_re_analyses_that_claim_only(
    warehouse: Warehouse, config: Config, tmp_path: Path
) -> None:
    patrols = "ICE agents in Canada run patrols in Toronto"
    warehouse.write(Batch(posts=posts({"id": 1, "text": FIVE}, {"id": 2, "text": patrols})))
    analyze_warehouse(warehouse, config)
    assert table(warehouse, f"SELECT count(*) FROM claim_mentions WHERE claim_id = '{ARMED}'") == [
        (0,)
    ]
    offices_rows = table(
        warehouse,
        f"SELECT post_uid, analyzed_at FROM store.claim_mentions WHERE claim_id = '{OFFICES}'",
    )
    warehouse.write(Batch(posts=posts({"id": 3, "text": FOUR})))

    def add_patrols(data: dict[str, Any]) -> None:
        data["claims"][ARMED]["object"]["en"].append("patrols")

    changed = write_config(tmp_path / "changed.toml", add_patrols)
    report = analyze_warehouse(warehouse, changed)
    assert by_claim(report) == {OFFICES: ("incremental", 1), ARMED: ("full", 3)}
    assert table(warehouse, f"SELECT post_uid FROM claim_mentions WHERE claim_id = '{ARMED}'") == [
        ("x:2",)
    ]
    after = table(
        warehouse,
        f"SELECT post_uid, analyzed_at FROM store.claim_mentions WHERE claim_id = '{OFFICES}'",
    )
    assert set(offices_rows) < set(after)  # kept, and the new post's mention added
    assert by_claim(analyze_warehouse(warehouse, changed)) == {
        OFFICES: ("unchanged", 0),
        ARMED: ("unchanged", 0),
    }


def test_a_claim_removed_from_the_config_loses_its_rows_and_state(
    warehouse: Warehouse, config: Config, tmp_path: Path
) -> None:
    correction = "Let's be clear: HSI agents in Canada do not carry firearms and make no arrests."
    warehouse.write(
        Batch(
            posts=posts(
                {"id": 1, "text": FIVE},
                {"id": 2, "text": ARMED_TEXT},
                {"id": 3, "text": correction},
            )
        )
    )
    analyze_warehouse(warehouse, config)
    assert table(warehouse, "SELECT DISTINCT claim_id FROM corrections") == [(ARMED,)]

    def drop_armed(data: dict[str, Any]) -> None:
        del data["claims"][ARMED]

    report = analyze_warehouse(warehouse, write_config(tmp_path / "one-claim.toml", drop_armed))
    assert report.removed == [ARMED]
    assert by_claim(report) == {OFFICES: ("unchanged", 0)}
    for name in ("claim_mentions", "corrections", "analysis_state"):
        gone = f"SELECT count(*) FROM store.{name} WHERE claim_id = '{ARMED}'"
        assert table(warehouse, gone) == [(0,)]
    assert table(warehouse, "SELECT post_uid, claim_id FROM claim_mentions") == [("x:1", OFFICES)]
    assert table(warehouse, "SELECT claim_id FROM store.analysis_state") == [(OFFICES,)]


def test_only_the_claims_asked_for_are_analysed(warehouse: Warehouse, config: Config) -> None:
    warehouse.write(Batch(posts=posts({"id": 1, "text": FIVE}, {"id": 2, "text": ARMED_TEXT})))
    report = analyze_warehouse(warehouse, config, claim_ids=[ARMED])
    assert by_claim(report) == {ARMED: ("full", 2)}
    assert table(warehouse, "SELECT claim_id FROM claim_mentions") == [(ARMED,)]
    assert by_claim(analyze_warehouse(warehouse, config)) == {
        OFFICES: ("full", 2),
        ARMED: ("unchanged", 0),
    }
    with pytest.raises(UnknownClaimError, match="no claim nope in the config"):
        analyze_warehouse(warehouse, config, claim_ids=["nope"])


def repost_rows(warehouse: Warehouse) -> list[tuple[Any, ...]]:
    return table(
        warehouse,
        "SELECT post_uid, variant, stance, origin_uid, matched_text FROM claim_mentions"
        f" WHERE claim_id = '{OFFICES}' ORDER BY post_uid",
    )


PARENT = {"id": "p", "text": FIVE}
REPOST = {"id": "r", "text": RT_CUT, "kind": "repost", "parent": "x:p", "minute": 10}
# A retweet whose cut text happens to give a mention of its own: the parent's still wins.
REPOST_OWN = {"id": "s", "text": FOUR, "kind": "repost", "parent": "x:p", "minute": 11}
# A repost of the repost (a chain): it follows the first repost to the original.
REPOST_OF_REPOST = {"id": "t", "text": "", "kind": "repost", "parent": "x:r", "minute": 12}
INHERITED = [
    ("x:p", "5", "asserts", None, "5 ICE stations"),
    ("x:r", "5", "asserts", "x:p", "5 ICE stations"),
    ("x:s", "5", "asserts", "x:p", "5 ICE stations"),
    ("x:t", "5", "asserts", "x:p", "5 ICE stations"),
]


@pytest.mark.parametrize(
    "batches",
    [
        pytest.param([[PARENT, REPOST, REPOST_OWN, REPOST_OF_REPOST]], id="all-at-once"),
        pytest.param([[PARENT], [REPOST, REPOST_OWN], [REPOST_OF_REPOST]], id="parent-first"),
        pytest.param([[REPOST_OF_REPOST], [REPOST, REPOST_OWN], [PARENT]], id="reposts-first"),
        pytest.param([[REPOST, REPOST_OF_REPOST], [PARENT, REPOST_OWN]], id="mixed"),
    ],
)
def test_plain_reposts_inherit_their_parents_mention_in_any_order(
    warehouse: Warehouse, config: Config, batches: list[list[dict[str, Any]]]
) -> None:
    for batch in batches:
        warehouse.write(Batch(posts=posts(*batch)))
        analyze_warehouse(warehouse, config)
    assert repost_rows(warehouse) == INHERITED
    assert table(
        warehouse,
        f"SELECT count(*) FROM store.claim_mentions WHERE claim_id = '{OFFICES}'",
    ) == [(4,)]
    incremental = mentions(warehouse)
    analyze_warehouse(warehouse, config, full=True)
    assert mentions(warehouse) == incremental


def test_a_repost_keeps_its_own_mention_while_its_parent_has_none(
    warehouse: Warehouse, config: Config
) -> None:
    warehouse.write(Batch(posts=posts(REPOST_OWN, {"id": "q", "text": FOUR, "kind": "repost"})))
    report = analyze_warehouse(warehouse, config)
    assert repost_rows(warehouse) == [
        ("x:q", "4", "asserts", None, "4 ICE stations"),
        ("x:s", "4", "asserts", None, "4 ICE stations"),
    ]
    assert {c.claim_id: c.inherited for c in report.claims} == {OFFICES: 0, ARMED: 0}
    warehouse.write(Batch(posts=posts({"id": "p", "text": NOISE})))  # the parent: no mention
    analyze_warehouse(warehouse, config)
    assert repost_rows(warehouse)[1] == ("x:s", "4", "asserts", None, "4 ICE stations")


def test_a_copy_stored_late_becomes_the_first_appearance(
    warehouse: Warehouse, config: Config
) -> None:
    warehouse.write(
        Batch(posts=posts({"id": "b", "text": FIVE + "!", "minute": 20}, {"id": "c", "text": FOUR}))
    )
    analyze_warehouse(warehouse, config)
    warehouse.write(Batch(posts=posts({"id": "a", "text": FIVE, "minute": 10})))  # a backfill
    analyze_warehouse(warehouse, config)
    links = "SELECT post_uid, copy_of FROM claim_mentions ORDER BY post_uid"
    assert table(warehouse, links) == [("x:a", None), ("x:b", "x:a"), ("x:c", None)]
    warehouse.write(
        Batch(posts=posts({"id": "0", "text": "There are 5 ICE stations in Canada..."}))
    )
    analyze_warehouse(warehouse, config)
    expected = [("x:0", None), ("x:a", "x:0"), ("x:b", "x:0"), ("x:c", None)]
    assert table(warehouse, links) == expected
    analyze_warehouse(warehouse, config, full=True)
    assert table(warehouse, links) == expected


def test_a_run_that_fails_while_writing_leaves_the_previous_state(
    warehouse: Warehouse, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse.write(Batch(posts=posts({"id": 1, "text": FIVE})))
    analyze_warehouse(warehouse, config)
    before = everything(warehouse)
    warehouse.write(Batch(posts=posts({"id": 2, "text": FOUR}, REPOST | {"parent": "x:1"})))

    def crash(*args: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(store_analysis, "_inherit", crash)  # after the inserts, before commit
    with pytest.raises(RuntimeError, match="disk on fire"):
        analyze_warehouse(warehouse, config, full=True)
    assert everything(warehouse) == before
    failed = table(warehouse, "SELECT status, error FROM collector_runs WHERE status <> 'ok'")
    assert failed == [("failed", "RuntimeError: disk on fire")]
    monkeypatch.undo()
    assert by_claim(analyze_warehouse(warehouse, config)) == {
        OFFICES: ("incremental", 2),
        ARMED: ("incremental", 2),
    }


def test_a_claim_another_run_analysed_meanwhile_is_left_to_that_run(
    warehouse: Warehouse, config: Config
) -> None:
    warehouse.write(Batch(posts=posts({"id": 1, "text": FIVE}, {"id": 2, "text": FOUR})))
    inner: list[AnalysisReport] = []

    def another_run(done: int, total: int) -> None:  # between the reads and the write
        if not inner:
            inner.append(analyze_warehouse(warehouse, config, claim_ids=[OFFICES]))

    outer = analyze_warehouse(warehouse, config, progress=another_run)
    assert by_claim(inner[0]) == {OFFICES: ("full", 2)}
    assert {c.claim_id: (c.mode, c.mentions) for c in outer.claims} == {
        OFFICES: ("moved", 0),
        ARMED: ("full", 0),
    }
    assert table(warehouse, "SELECT count(*) FROM store.claim_mentions") == [(2,)]
    assert by_claim(analyze_warehouse(warehouse, config)) == {
        OFFICES: ("unchanged", 0),
        ARMED: ("unchanged", 0),
    }


def test_posts_stored_before_this_version_are_analysed(
    db_path: Path, warehouse: Warehouse, config: Config
) -> None:
    with duckdb.connect(str(db_path)) as con:
        migrations.migrate(con, target=4)
        con.execute(
            "INSERT INTO store.posts (post_uid, source, source_id, created_at, text, kind)"
            " VALUES ('x:1', 'x', '1', TIMESTAMPTZ '2026-01-27 00:00:00+00', ?, 'post')",
            [FIVE],
        )
    report = analyze_warehouse(warehouse, config)
    assert by_claim(report) == {OFFICES: ("full", 1), ARMED: ("full", 1)}
    assert table(warehouse, "SELECT post_uid, variant FROM claim_mentions") == [("x:1", "5")]


def test_analysis_runs_beside_a_writer_and_a_reader_process_and_misses_no_post(
    config: Config, db_path: Path, tmp_path: Path
) -> None:
    """Every post the writer stores mentions the offices claim ("there are 5 ICE stations in
    Canada"): runs made while it writes, and one after, give each post its mention exactly once,
    and the reader never sees an error."""
    warehouse = Warehouse(db_path, lock_timeout=30, read_timeout=30)
    warehouse.write(Batch(posts=posts({"id": "first", "text": FIVE})))
    stop = tmp_path / "stop"
    writer = start_worker("writer", db_path, 20, 500)
    reader = start_worker("reader", db_path, stop, 0.2)  # a dashboard refreshing
    try:
        runs = []
        while writer.poll() is None:
            runs.append(analyze_warehouse(warehouse, config, claim_ids=[OFFICES]))
        written = worker_report(writer)
        runs.append(analyze_warehouse(warehouse, config, claim_ids=[OFFICES]))
        stop.touch()
        seen = worker_report(reader)
    finally:
        stop.touch()
        for process in (writer, reader):
            if process.poll() is None:
                process.kill()
                process.wait()
    assert seen["errors"] == []
    assert written["committed"] + written["staged"] == 20
    assert table(
        warehouse,
        "SELECT count(*), count(DISTINCT m.post_uid), (SELECT count(*) FROM posts)"
        f" FROM claim_mentions m WHERE claim_id = '{OFFICES}'",
    ) == [(10_001, 10_001, 10_001)]
    assert sum(r.posts_read for r in runs) == 10_001  # each post read once
    assert len(runs) >= 2


def start_worker(*args: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(Path(__file__).parent / "workers.py"), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def worker_report(process: subprocess.Popen[str], timeout: float = 120) -> dict[str, Any]:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err
    return dict(json.loads(out.strip().splitlines()[-1]))


Cli = Callable[..., CliResult]


def test_the_analyze_command_end_to_end(cli: Cli, tmp_path: Path) -> None:
    fixture = Path(__file__).parent / "fixtures" / "seed_posts.jsonl"
    config = ("--config", str(CONFIG))
    assert cli(*config, "import", str(fixture)).code == 0
    first = cli(*config, "analyze")
    assert first.code == 0, first.err
    assert OFFICES in first.out and ARMED in first.out and "full" in first.out
    again = cli(*config, "analyze")
    assert again.code == 0
    assert "unchanged" in again.out and "0 posts read" in again.out
    assert cli(*config, "sql", "SELECT count(*) AS n FROM claim_mentions", "--format", "csv").out
    only = cli(*config, "analyze", "--full", "--claim", ARMED)
    assert only.code == 0
    assert ARMED in only.out and OFFICES not in only.out

    unknown = cli(*config, "analyze", "--claim", "nope")
    assert unknown.code == 2
    assert "no claim nope in the config" in unknown.err
    missing = cli(*config, "--db", str(tmp_path / "none.duckdb"), "analyze")
    assert missing.code == 2
    assert "there is no warehouse" in missing.err
    assert not (tmp_path / "none.duckdb").exists()
