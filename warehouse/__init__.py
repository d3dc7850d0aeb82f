"""The warehouse: every post once, with its raw payload, edges, engagement history and runs.

`Warehouse` is the one door to the DuckDB file; nothing else in claimwatch opens it.
"""

from warehouse.access import WarehouseBusyError, WarehouseError
from warehouse.load import Batch, CursorUpdate, LoadStats, QuarantineRow, RunRecord
from warehouse.migrations import LATEST_VERSION, SchemaTooNewError
from warehouse.store import Warehouse, WriteResult

__all__ = [
    "LATEST_VERSION",
    "Batch",
    "CursorUpdate",
    "LoadStats",
    "QuarantineRow",
    "RunRecord",
    "SchemaTooNewError",
    "Warehouse",
    "WarehouseBusyError",
    "WarehouseError",
    "WriteResult",
]
