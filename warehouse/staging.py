"""Staged batches: what a writer keeps on disk while another process holds the warehouse.

A staged batch is one Parquet file holding the batch's posts, with its runs, cursors and quarantined
pages as JSON in the file's metadata. It is written under a temporary name, flushed to disk and then
renamed, so a batch is either wholly staged or not at all, even if the process is killed. Staged
batches are applied in the order they were staged, and each is deleted only after its transaction
has committed; `store.applied_batches` makes a replay after a crash between the two a no-op.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from warehouse.load import Batch, CursorUpdate, QuarantineRow, RunRecord
from warehouse.schema import POST_ARROW_SCHEMA, conform_posts

_META_KEY = b"claimwatch.batch"


def staging_dir(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".staging")


def stage(db_path: Path, batch: Batch) -> Path:
    folder = staging_dir(db_path)
    folder.mkdir(parents=True, exist_ok=True)
    posts = (
        conform_posts(batch.posts) if batch.posts is not None else POST_ARROW_SCHEMA.empty_table()
    )
    meta = {
        "batch_id": batch.batch_id,
        "run_id": batch.run_id,
        "has_posts": batch.posts is not None,
        "runs": [_jsonable(asdict(r)) for r in batch.runs],
        "cursors": [asdict(c) for c in batch.cursors],
        "quarantine": [asdict(q) for q in batch.quarantine],
        "post_topics": batch.post_topics.to_pylist() if batch.post_topics is not None else None,
    }
    table = posts.replace_schema_metadata({_META_KEY: json.dumps(meta).encode()})
    final = folder / f"{time.time_ns():020d}-{batch.batch_id}.parquet"
    partial = final.with_suffix(f".{os.getpid()}.partial")  # the writer's PID: see staged_batches
    pq.write_table(table, partial, compression="zstd")
    with partial.open("rb") as handle:
        os.fsync(handle.fileno())
    partial.replace(final)
    _fsync_dir(folder)
    return final


def staged_batches(db_path: Path) -> list[Path]:
    """Staged batches, oldest first.

    A `.partial` file left by a writer that was killed is removed; one whose writer (named by the
    PID in its name) is still alive is being written right now, and is left alone.
    """
    folder = staging_dir(db_path)
    if not folder.is_dir():
        return []
    for leftover in folder.glob("*.partial"):
        if not _writer_alive(leftover):
            leftover.unlink(missing_ok=True)
    return sorted(folder.glob("*.parquet"))


def _writer_alive(partial: Path) -> bool:
    pid = partial.suffixes[-2].lstrip(".") if len(partial.suffixes) >= 2 else ""
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def read_staged(path: Path) -> Batch:
    table = pq.read_table(path)
    meta = json.loads((table.schema.metadata or {})[_META_KEY])
    return Batch(
        posts=table.replace_schema_metadata(None) if meta["has_posts"] else None,
        runs=[RunRecord(**_parse_times(r)) for r in meta["runs"]],
        cursors=[CursorUpdate(**c) for c in meta["cursors"]],
        quarantine=[QuarantineRow(**q) for q in meta["quarantine"]],
        post_topics=pa.Table.from_pylist(meta["post_topics"]) if meta.get("post_topics") else None,
        run_id=meta["run_id"],
        batch_id=meta["batch_id"],
    )


def _jsonable(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in record.items()}


def _parse_times(record: dict[str, Any]) -> dict[str, Any]:
    return {
        k: datetime.fromisoformat(v) if k.endswith("_at") and isinstance(v, str) else v
        for k, v in record.items()
    }


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
