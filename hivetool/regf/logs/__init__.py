"""Transaction logs (.LOG1/.LOG2, regf-format section 9) and their replay.

============  =============================================================================
``marvin``    Marvin32, the hash that guards each new-format log entry
``log``       one log file: its header, format, entries (new) or dirty pages (old)
``replay``    applying logs to a dirty primary image, as Windows does when it loads it
``report``    what a replay did and did not do
``files``     a hive file with its logs: read under one lock, open replayed, save and empty
============  =============================================================================
"""
from .files import Replayed, open_replayed, replay_file, require_replayed, save_replayed
from .log import TransactionLog, read_logs
from .replay import replay
from .report import ReplayReport

__all__ = ["Replayed", "ReplayReport", "TransactionLog", "open_replayed", "read_logs", "replay", "replay_file",
           "require_replayed", "save_replayed"]
