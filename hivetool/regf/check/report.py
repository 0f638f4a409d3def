"""The report of the structural checker, and the collector that fills it.

A finding's code says what is wrong (the codes and their meanings are listed in
:mod:`..records.check_codes`); its first letter gives the level. At most ``MAX_PER_CODE``
findings of one code are listed, so a huge broken hive cannot flood memory; the counts stay
true totals.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..records.check_codes import LEVELS, level_of
from ..records.problems import HiveFinding

MAX_PER_CODE = 200  # listed findings per code; a huge broken hive must not flood memory
MORE = "I-MORE"


@dataclass
class CheckReport:
    """All findings for one hive. ``counts`` are true totals per level, including findings
    beyond the per-code listing cap (those are summarised by one ``I-MORE`` finding)."""

    path: str | None
    findings: list[HiveFinding]
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.counts:
            listed = Counter(f.level for f in self.findings if f.code != MORE)
            self.counts = {level: listed.get(level, 0) for level in LEVELS}

    @property
    def errors(self) -> list[HiveFinding]:
        return [f for f in self.findings if f.level == "error"]

    @property
    def warnings(self) -> list[HiveFinding]:
        return [f for f in self.findings if f.level == "warning"]

    @property
    def problems(self) -> list[HiveFinding]:
        """Errors and warnings: what makes ``hivetool check`` exit 1."""
        return [f for f in self.findings if f.level != "info"]

    @property
    def clean(self) -> bool:
        return not self.counts["error"] and not self.counts["warning"]

    def codes(self) -> set[str]:
        return {f.code for f in self.findings}

    def summary(self) -> str:
        """One line, e.g. ``SYSTEM: clean (0 errors, 0 warnings, 3 info)``."""
        e, w, i = (self.counts[level] for level in LEVELS)
        verdict = "clean" if self.clean else "PROBLEMS FOUND"
        counts = f"{e} error{'' if e == 1 else 's'}, {w} warning{'' if w == 1 else 's'}, {i} info"
        return f"{self.path or 'hive'}: {verdict} ({counts})"

    def to_json(self) -> dict[str, Any]:
        """``{"file": str|None, "clean": bool, "counts": {"error": n, "warning": n, "info": n},
        "findings": [{"code", "level", "offset" (int file offset or null), "message"}]}``."""
        return {
            "file": self.path,
            "clean": self.clean,
            "counts": dict(self.counts),
            "findings": [f.to_json() for f in self.findings],
        }


class Collector:
    """Gathers findings, listing at most ``MAX_PER_CODE`` of each code."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.findings: list[HiveFinding] = []
        self.per_code: Counter[str] = Counter()

    def add(self, code: str, file_offset: int | None, message: str) -> None:
        self.per_code[code] += 1
        if self.per_code[code] <= MAX_PER_CODE:
            self.findings.append(HiveFinding(code, level_of(code), message, file_offset))

    def extend(self, found: Iterable[HiveFinding]) -> None:
        """Report what a record's problem function found."""
        for one in found:
            self.per_code[one.code] += 1
            if self.per_code[one.code] <= MAX_PER_CODE:
                self.findings.append(one)

    def has(self, code: str) -> bool:
        return self.per_code[code] > 0

    def report(self) -> CheckReport:
        findings = list(self.findings)
        for code, count in sorted(self.per_code.items()):
            if count > MAX_PER_CODE:
                findings.append(
                    HiveFinding(MORE, "info", f"... {count - MAX_PER_CODE} more {code} findings not listed", None)
                )
        counts = dict.fromkeys(LEVELS, 0)
        for code, count in self.per_code.items():
            counts[level_of(code)] += count
        return CheckReport(self.path, findings, counts)
