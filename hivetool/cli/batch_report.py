"""What a batch says while it runs (a bar, or periodic lines) and at the end (counts by exit
code), and which outcomes make it exit 1 (--fail-on)."""
from __future__ import annotations

import os
import sys
import time

from ..batch.frames import Message
from ..errors import UsageError

TIMEOUT = "timeout"
DIED = "died"
_WORDS = (TIMEOUT, DIED, "any")
# Seconds between progress lines when standard error is not a terminal (the environment
# variable is for tests).
PLAIN_EVERY = float(os.environ.get("HIVETOOL_PROGRESS_EVERY", "10"))


def outcome(record: Message) -> str:
    """An exit code ("0", "3", ...), or "timeout" or "died" for a command that never finished."""
    code = record.get("exit_code")
    if code is not None:
        return str(code)
    return TIMEOUT if str(record.get("error") or "").startswith("timed out") else DIED


def fail_on_set(text: str | None) -> set[str]:
    if not text:
        return set()
    chosen = set()
    for part in text.split(","):
        part = part.strip().lower()
        if part.isdigit() or part in _WORDS:
            chosen.add(str(int(part)) if part.isdigit() else part)
        else:
            raise UsageError(f"--fail-on {text}: '{part}' is not an exit code or one of {', '.join(_WORDS)}")
    return chosen


def _fails(kind: str, failing: set[str]) -> bool:
    return kind in failing or ("any" in failing and kind != "0")


class Tally:
    def __init__(self, total: int) -> None:
        self.total = total
        self.started = time.monotonic()
        self.done = 0
        self.skipped = 0
        self.kinds: dict[str, int] = {}
        self.failures: dict[str, list[str]] = {}

    def add(self, record: Message, skipped: bool = False) -> None:
        self.done += 1
        self.skipped += skipped
        kind = outcome(record)
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        self.failures.setdefault(kind, []).append(record["target"])

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return (self.done - self.skipped) / elapsed if elapsed > 0 else 0.0

    def summary(self, out_path: str | None, failing: set[str], interrupted: bool, workers: int | None) -> Message:
        exit_codes = {kind: count for kind, count in sorted(self.kinds.items(), key=lambda i: _order(i[0]))
                      if kind not in (TIMEOUT, DIED)}
        failed_on = sorted(target for kind, targets in self.failures.items() if _fails(kind, failing)
                           for target in targets)
        return {"command": "batch", "targets": self.total, "ran": self.done - self.skipped, "skipped": self.skipped,
                "not_run": self.total - self.done, "exit_codes": exit_codes,
                "timed_out": self.kinds.get(TIMEOUT, 0), "died": self.kinds.get(DIED, 0),
                "failed_on": failed_on, "results": out_path, "interrupted": interrupted, "workers": workers,
                "seconds": round(time.monotonic() - self.started, 3)}

    @staticmethod
    def describe(summary: Message) -> str:
        codes = ", ".join(f"exit {code}: {count}" for code, count in summary["exit_codes"].items()) or "none"
        parts = [f"batch: {summary['targets']} target(s) in {_duration(summary['seconds'])}: {codes}"]
        if summary["timed_out"] or summary["died"]:
            parts.append(f"timed out: {summary['timed_out']}, died: {summary['died']}")
        if summary["skipped"]:
            parts.append(f"{summary['skipped']} unchanged since the results file recorded them (not run again)")
        if summary["interrupted"]:
            parts.append(f"interrupted with {summary['not_run']} not run; --resume continues")
        if summary["failed_on"]:
            parts.append(f"{len(summary['failed_on'])} target(s) ended as --fail-on names")
        return "; ".join(parts)


def _order(kind: str) -> tuple[int, str]:
    return (0, f"{int(kind):4d}") if kind.isdigit() else (1, kind)


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class PlainProgress:
    """A line every PLAIN_EVERY seconds, for logs (standard error not a terminal)."""

    def __init__(self, tally: Tally) -> None:
        self.tally = tally
        self.last = time.monotonic()

    def update(self) -> None:
        now = time.monotonic()
        if now - self.last < PLAIN_EVERY:
            return
        self.last = now
        tally = self.tally
        rate = tally.rate()
        left = (tally.total - tally.done) / rate if rate > 0 else None
        codes = ", ".join(f"{kind}: {count}" for kind, count in sorted(tally.kinds.items(), key=lambda i: _order(i[0])))
        print(f"batch: {tally.done}/{tally.total} done ({codes}), {rate:.1f}/s"
              + (f", about {_duration(left)} left" if left is not None else ""), file=sys.stderr, flush=True)

    def close(self) -> None:
        pass


class BarProgress:
    """tqdm's bar: counts, rate and time left; the exit codes so far after it."""

    def __init__(self, tally: Tally) -> None:
        from tqdm import tqdm

        self.tally = tally
        self.bar = tqdm(total=tally.total, unit=" targets", file=sys.stderr, dynamic_ncols=True, leave=False,
                        desc="batch")

    def update(self) -> None:
        self.bar.set_postfix_str(", ".join(f"exit {k}: {v}" if k.isdigit() else f"{k}: {v}" for k, v in sorted(self.tally.kinds.items(),
                                                                         key=lambda i: _order(i[0]))), refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


def progress_for(tally: Tally) -> "PlainProgress | BarProgress":
    try:
        terminal = sys.stderr.isatty()
    except (AttributeError, ValueError):
        terminal = False
    return BarProgress(tally) if terminal else PlainProgress(tally)
