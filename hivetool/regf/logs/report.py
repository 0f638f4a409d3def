"""What a log replay did and did not do: printed by the CLI, and as JSON."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .log import FORMAT_OLD, sequence_ranges


@dataclass(frozen=True)
class AppliedEntry:
    """One log entry a replay applied: its log, its sequence number, how many pages it wrote
    and the hive-bins size after it."""

    log: str
    sequence: int
    pages: int
    hbins_size: int


@dataclass
class ReplayReport:
    """What a replay did and did not do; printed by the CLI, and as JSON."""

    hive: str
    dirty: bool
    primary_sequences: tuple[int, int]
    hbins_size_before: int
    logs: list[dict[str, Any]] = field(default_factory=list)
    format: str | None = None
    applied: list[AppliedEntry] = field(default_factory=list)
    old_format_pages: int = 0
    used_logs: list[str] = field(default_factory=list)
    header_from_log: str | None = None
    sequence: int | None = None  # in the recovered base block
    hbins_size_after: int | None = None
    sequence_floor: int = 0  # a save must write sequence numbers above this
    notes: list[str] = field(default_factory=list)  # normal facts (an older log, a clean hive)
    skipped: list[str] = field(default_factory=list)  # damage or mismatches: worth a warning

    @property
    def applied_anything(self) -> bool:
        return bool(self.applied or self.old_format_pages)

    def summary(self, planned: bool = False) -> str:
        """One line; ``planned`` words it as what a replay would do (for ``info``)."""
        if not self.dirty:
            return "not needed: the hive is clean, so Windows ignores its logs"
        if not self.applied_anything:
            if not self.logs:
                return "no transaction log beside it" + (": the hive can only be read as it is (stale)" if planned else "")
            return "nothing usable in the logs" + (": the hive can only be read as it is (stale)" if planned else "")
        if self.format == FORMAT_OLD:
            what = f"{self.old_format_pages} dirty 512-byte pages"
        else:
            count = len(self.applied)
            numbers = sequence_ranges([entry.sequence for entry in self.applied])
            what = f"{count} log entr{'y' if count == 1 else 'ies'} (sequence {numbers})"
        sizes = f"hive bins 0x{self.hbins_size_before:x}"
        if self.hbins_size_after != self.hbins_size_before:
            sizes += f" -> 0x{self.hbins_size_after:x}"
        header = f"; base block taken from {Path(self.header_from_log).name}" if self.header_from_log else ""
        used = ", ".join(Path(name).name for name in self.used_logs)
        verb = "would replay" if planned else "replayed"
        return f"{verb} {what} from {used}: sequence {self.sequence}, {sizes}{header}"

    def to_json(self) -> dict[str, Any]:
        return {
            "hive": self.hive,
            "dirty": self.dirty,
            "primary_sequences": list(self.primary_sequences),
            "format": self.format,
            "applied": [
                {"log": e.log, "sequence": e.sequence, "pages": e.pages, "hive_bins_size": e.hbins_size}
                for e in self.applied
            ],
            "old_format_pages": self.old_format_pages,
            "used_logs": self.used_logs,
            "header_from_log": self.header_from_log,
            "sequence": self.sequence,
            "hive_bins_size_before": self.hbins_size_before,
            "hive_bins_size_after": self.hbins_size_after,
            "sequence_floor": self.sequence_floor,
            "logs": self.logs,
            "notes": self.notes,
            "skipped": self.skipped,
            "summary": self.summary(),
        }
