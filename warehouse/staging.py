"""Staged batches: what a writer keeps on disk while another process holds the warehouse.

A staged batch is one Parquet file holding the batch's posts, with its runs, cursors and quarantined
pages as JSON in the file's metadata. It is written under a temporary name, flushed to disk and then
renamed, so a batch is either wholly staged or not at all, even if the process is killed. Staged
batches are applied in the order they were staged, and each is deleted only after its transaction
has committed; `store.applied_batches` makes a replay after a crash between the two a no-op.

The file's SHA-256 is part of its name, so a batch damaged after it was staged (cut short, a byte
changed) is found before it is applied, and moved aside to `<db>.rejected/` with its reason instead
of stopping every later write. A batch staged by an older claimwatch has no checksum in its name;
it is checked by reading it whole (the Parquet footer, the metadata, the Post columns).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from warehouse.load import Batch, CursorUpdate, QuarantineRow, RunRecord
from warehouse.schema import POST_ARROW_SCHEMA, conform_posts

_META_KEY = b"claimwatch.batch"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_REASON_SUFFIX = ".reason.json"


class DamagedBatchError(Exception):
    """A staged file that cannot be applied as it is; `reason` says why, for people."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path.name}: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class RejectedBatch:
    path: Path
    reason: str
    rejected_at: str | None


def staging_dir(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".staging")


def rejected_dir(db_path: Path) -> Path:
    """Where damaged staged batches are kept, named after the warehouse like its staging folder."""
    return db_path.with_name(db_path.name + ".rejected")


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
    name = f"{time.time_ns():020d}-{batch.batch_id}"
    partial = folder / f"{name}.{os.getpid()}.partial"  # the writer's PID: see staged_batches
    pq.write_table(table, partial, compression="zstd")
    with partial.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
        os.fsync(handle.fileno())
    final = folder / f"{name}.{digest}.parquet"
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
    """The batch staged in `path`, verified first; `DamagedBatchError` if it cannot be applied."""
    _verify_checksum(path)
    try:
        return _decode(path)
    except FileNotFoundError:
        raise
    except (pa.ArrowException, OSError, ValueError, KeyError, TypeError) as error:
        detail = str(error).replace(str(path), path.name)
        raise DamagedBatchError(
            path, f"damaged: it cannot be read as a staged batch ({type(error).__name__}: {detail})"
        ) from None


def damage(path: Path) -> str | None:
    """Why the staged batch in `path` cannot be applied, or None; cheaper than reading it.

    A batch with its checksum in its name was whole when staged, so matching bytes suffice.
    """
    try:
        if _staged_digest(path) is None:
            read_staged(path)
        else:
            _verify_checksum(path)
    except DamagedBatchError as damaged:
        return damaged.reason
    return None


def reject(db_path: Path, path: Path, reason: str) -> Path:
    """Move a damaged staged batch to the rejected folder, its reason beside it; return where."""
    folder = rejected_dir(db_path)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    note = {"reason": reason, "staged_as": str(path), "rejected_at": datetime.now(UTC).isoformat()}
    # the reason first: a crash before the move only means the batch is rejected again next time
    (folder / (path.name + _REASON_SUFFIX)).write_text(json.dumps(note, indent=1) + "\n")
    path.replace(target)
    _fsync_dir(folder)
    return target


def rejected_batches(db_path: Path) -> list[RejectedBatch]:
    """Damaged batches set aside so far, oldest first."""
    folder = rejected_dir(db_path)
    if not folder.is_dir():
        return []
    return [_rejected(path) for path in sorted(folder.glob("*.parquet"))]


def _rejected(path: Path) -> RejectedBatch:
    try:
        note = json.loads(path.with_name(path.name + _REASON_SUFFIX).read_text())
        return RejectedBatch(path, str(note["reason"]), note.get("rejected_at"))
    except (OSError, ValueError, KeyError, TypeError):
        return RejectedBatch(path, "damaged (its reason was not recorded)", None)


def _verify_checksum(path: Path) -> None:
    expected = _staged_digest(path)
    if expected is None:
        return  # staged by an older claimwatch: reading it whole is the check
    with path.open("rb") as handle:
        actual = hashlib.file_digest(handle, "sha256").hexdigest()
    if actual != expected:
        raise DamagedBatchError(
            path,
            f"damaged: its SHA-256 checksum does not match ({path.stat().st_size:,} bytes,"
            f" SHA-256 {actual[:12]}…, staged as {expected[:12]}…)",
        )


def _staged_digest(path: Path) -> str | None:
    parts = path.name.removesuffix(".parquet").split(".")
    return parts[-1] if len(parts) == 2 and _SHA256.fullmatch(parts[-1]) else None


def _decode(path: Path) -> Batch:
    table = pq.read_table(path)
    meta = json.loads((table.schema.metadata or {})[_META_KEY])
    posts = conform_posts(table.replace_schema_metadata(None)) if meta["has_posts"] else None
    return Batch(
        posts=posts,
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
