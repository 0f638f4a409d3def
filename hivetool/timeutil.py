"""Timestamps: FILETIME conversion and the one clock every write takes its time from.

No code in hivetool calls ``now()`` on its own: writers receive a :class:`Clock`, whose
time comes from ``--timestamp``, then ``SOURCE_DATE_EPOCH``, then the system clock, so
image builds can be made byte-reproducible.
"""
from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from .errors import UsageError

if TYPE_CHECKING:
    import datetime as _dt

# FILETIME counts 100 ns ticks since 1601-01-01 UTC; Unix time starts 11,644,473,600 s later.
_EPOCH_DELTA_SECONDS = 11_644_473_600
_TICKS_PER_SECOND = 10_000_000
FILETIME_MAX = 0xFFFF_FFFF_FFFF_FFFF


def unix_to_filetime(seconds: float) -> int:
    ticks = int(round((seconds + _EPOCH_DELTA_SECONDS) * _TICKS_PER_SECOND))
    if not 0 <= ticks <= FILETIME_MAX:
        raise UsageError(f"time {seconds} is outside the FILETIME range")
    return ticks


def filetime_to_datetime(filetime: int) -> _dt.datetime:
    """A timezone-aware UTC datetime; FILETIME values beyond year 9999 are clamped."""
    import datetime as _dt  # only where dates are shown or parsed: not on every start-up

    base = _dt.datetime(1601, 1, 1, tzinfo=_dt.timezone.utc)
    try:
        return base + _dt.timedelta(microseconds=filetime // 10)
    except OverflowError:
        return _dt.datetime.max.replace(tzinfo=_dt.timezone.utc)


def filetime_to_iso(filetime: int) -> str:
    """ISO 8601 in UTC with a ``Z``; sub-second digits only when present."""
    # A dump formats every key's time, and keys share their second far more often than not
    # (30,756 keys of a real SYSTEM hive have 615 distinct seconds): the text up to the
    # second comes from a cache, the sub-second digits from one str(). Years from 9999 on
    # take the datetime path.
    seconds, frac = divmod(filetime, _TICKS_PER_SECOND)
    text = _SECONDS.get(seconds)
    if text is None:
        text = _second_text(seconds)
        if text is None:
            return _iso_by_datetime(filetime)
    if frac:  # 7 digits with leading zeros (the leading "1" of frac + 10**7 dropped), no trailing ones
        return text + "." + str(frac + _TICKS_PER_SECOND)[1:].rstrip("0") + "Z"
    return text + "Z"


_SECONDS: dict[int, str] = {}  # seconds since 1601-01-01 -> "YYYY-MM-DDTHH:MM:SS"
_SECONDS_KEPT = 20_000  # about 3 MB at most: keys share far fewer seconds than this
_ORDINAL_1601 = 584_389  # datetime.date(1601, 1, 1).toordinal()
_LAST_DAY = 3_067_305  # 9998-12-31, days since 1601-01-01: later dates take the datetime path


def _second_text(seconds: int) -> str | None:
    days, second_of_day = divmod(seconds, 86_400)
    if not 0 <= days <= _LAST_DAY:
        return None
    import datetime as _dt

    minutes, second = divmod(second_of_day, 60)
    hour, minute = divmod(minutes, 60)
    text = f"{_dt.date.fromordinal(_ORDINAL_1601 + days).isoformat()}T{hour:02d}:{minute:02d}:{second:02d}"
    if len(_SECONDS) < _SECONDS_KEPT:
        _SECONDS[seconds] = text
    return text


def _iso_by_datetime(filetime: int) -> str:
    """Years 9999 on (clamped there): the time without sub-second digits."""
    moment = filetime_to_datetime(filetime)
    text = (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
            f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}")
    frac = filetime % _TICKS_PER_SECOND
    if frac and moment.year < 9999:
        text += "." + f"{frac:07d}".rstrip("0")
    return text + "Z"


def parse_timestamp(text: str) -> int:
    """Parse ``--timestamp``: ISO 8601 (UTC when no zone) or ``@epoch`` seconds -> FILETIME."""
    raw = text.strip()
    if raw.startswith("@"):
        try:
            return unix_to_filetime(float(raw[1:]))
        except ValueError:
            raise UsageError(f"bad timestamp {text!r}: expected @<seconds since 1970>") from None
    import datetime as _dt

    try:
        moment = _dt.datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"bad timestamp {text!r}: expected ISO 8601 such as 2024-05-01T12:00:00Z, or @epoch"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.timezone.utc)
    delta = moment - _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
    ticks = (delta.days * 86_400 + delta.seconds) * _TICKS_PER_SECOND + delta.microseconds * 10
    return ticks + _EPOCH_DELTA_SECONDS * _TICKS_PER_SECOND


class Clock:
    """Where written timestamps come from. A fixed clock makes output reproducible."""

    def __init__(self, fixed_filetime: int | None = None) -> None:
        self.fixed = fixed_filetime

    def now(self) -> int:
        if self.fixed is not None:
            return self.fixed
        return unix_to_filetime(time.time())

    @classmethod
    def resolve(cls, timestamp: str | None = None, environ: dict[str, str] | None = None) -> "Clock":
        """The documented precedence: the flag, then ``SOURCE_DATE_EPOCH``, then now."""
        if timestamp is not None:
            return cls(parse_timestamp(timestamp))
        env = os.environ if environ is None else environ
        epoch = env.get("SOURCE_DATE_EPOCH")
        if epoch:
            try:
                return cls(unix_to_filetime(int(epoch)))
            except ValueError:
                raise UsageError(f"SOURCE_DATE_EPOCH={epoch!r} is not a whole number of seconds") from None
        return cls(None)
