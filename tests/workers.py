"""Programs the two-process tests start: a writer, a reader, an analyst holding the file.

Run as `python tests/workers.py ROLE DB ...`; each prints one JSON line of what it saw.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).parent))

from conftest import make_posts

from warehouse import Batch, Warehouse
from warehouse.adhoc import run_query


def writer(db: Path, batches: int, size: int, first: int = 0) -> dict[str, object]:
    warehouse = Warehouse(db, lock_timeout=0.5)
    statuses = [
        warehouse.write(Batch(posts=make_posts(size, start=first + i * size))).status
        for i in range(batches)
    ]
    patient = Warehouse(db, lock_timeout=60)  # readers are still busy: wait, then merge
    merged, _ = patient.flush()
    return {
        "committed": statuses.count("committed"),
        "staged": statuses.count("staged"),
        "merged_at_end": merged,
    }


def reader(db: Path, stop_file: Path, pause: float = 0.0) -> dict[str, object]:
    """Query in a loop (with `pause` seconds between queries, as a dashboard refreshing)."""
    warehouse = Warehouse(db, read_timeout=30)
    counts: list[int] = []
    errors: list[str] = []
    while not stop_file.exists():
        try:
            result = run_query(warehouse, "SELECT count(*) AS n FROM posts")
            counts.append(int(result.table.column("n")[0].as_py()))
        except Exception as error:  # the test asserts there are none
            errors.append(f"{type(error).__name__}: {error}")
        time.sleep(pause)
    return {"counts": counts, "errors": errors}


def analyst(db: Path, seconds: float, mode: str) -> dict[str, object]:
    """Hold the file open the way a person in a DuckDB shell would."""
    con = duckdb.connect(str(db), read_only=mode == "read-only")
    print(json.dumps({"holding": True}), flush=True)
    time.sleep(seconds)
    con.close()
    return {"held": seconds}


def killed_writer(db: Path, size: int) -> dict[str, object]:
    posts = make_posts(size)
    print(json.dumps({"writing": True}), flush=True)
    Warehouse(db).write(Batch(posts=posts))
    return {"finished": True}


if __name__ == "__main__":
    role, db, *rest = sys.argv[1:]
    if role == "writer":
        report = writer(Path(db), *map(int, rest))
    elif role == "reader":
        report = reader(Path(db), Path(rest[0]), *map(float, rest[1:]))
    elif role == "analyst":
        report = analyst(Path(db), float(rest[0]), rest[1])
    else:
        report = killed_writer(Path(db), int(rest[0]))
    print(json.dumps(report), flush=True)
