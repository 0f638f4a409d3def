"""The viewer's JSON API: one function per endpoint, independent of HTTP.

Every endpoint takes the query parameters of a GET request and returns one JSON document.
``target`` chooses ``main`` (TARGET) or ``compare`` (``--compare OTHER``), ``logs`` chooses
the state (``1``: dirty hives read through their transaction logs; ``0``: as stored; missing:
as the command line said). No parameter is ever a file name: only the targets given on the
command line are read.

=====================  ==================================================================
endpoint               parameters and answer
=====================  ==================================================================
``/api/info``          the targets, their hives, whether any is dirty (the replay toggle)
``/api/children``      ``path``, ``offset``, ``limit``: a page of subkeys, with their facts
``/api/key``           ``path``: the key's facts and its values (raw data cut short)
``/api/value``         ``path``, ``name``: one value with all its raw bytes
``/api/resolve``       ``q``: a pasted path, mapped as the commands map it
``/api/search``        ``q``, ``regex``, ``case``, ``scope`` (all, names, data)
``/api/timeline``      ``start``, ``end`` (FILETIME or ISO 8601), ``buckets``
``/api/timeline/keys`` ``start``, ``end``, ``offset``, ``limit``: the keys of a range
``/api/deleted``       recovered deleted keys and values, with their offsets
``/api/deleted/item``  ``index``: one of them with all its raw bytes
``/api/diff``          ``touched``: the changes from OTHER to TARGET
=====================  ==================================================================

Errors are :class:`ApiError` with an HTTP status: 404 for a key or value that is not there,
400 for a request that makes no sense, 422 for a hive that cannot be read that far.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from ..errors import HivetoolError, NotFound, UsageError
from . import compare, deleted, nodes, search, timeline, values
from .sources import COMPARE, MAIN, Sources, State

Params = Mapping[str, str]


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _flag(params: Params, name: str, default: bool = False) -> bool:
    text = params.get(name)
    if text is None or text == "":
        return default
    return text.lower() in ("1", "true", "yes", "on")


def _number(params: Params, name: str, default: int) -> int:
    text = params.get(name)
    if text is None or text == "":
        return default
    try:
        return int(text)
    except ValueError:
        raise ApiError(400, f"{name}={text!r} is not a whole number") from None


def _time(params: Params, name: str) -> str | None:
    """A FILETIME as digits, or an ISO 8601 time (UTC when no zone is given)."""
    text = (params.get(name) or "").strip()
    if not text or text.isdigit():
        return text or None
    from ..timeutil import parse_timestamp

    return str(parse_timestamp(text))


class ViewerApi:
    def __init__(self, sources: Sources, replay_logs: bool = False) -> None:
        self.sources = sources
        self.replay_logs = replay_logs
        self.routes: dict[str, Callable[[Params], dict[str, Any]]] = {
            "/api/info": self.info, "/api/children": self.children, "/api/key": self.key,
            "/api/value": self.value, "/api/resolve": self.resolve, "/api/search": self.search,
            "/api/timeline": self.timeline, "/api/timeline/keys": self.timeline_keys,
            "/api/deleted": self.deleted, "/api/deleted/item": self.deleted_item, "/api/diff": self.diff,
        }

    def handle(self, route: str, params: Params) -> dict[str, Any]:
        endpoint = self.routes.get(route)
        if endpoint is None:
            raise ApiError(404, f"no such endpoint: {route}")
        try:
            return endpoint(params)
        except ApiError:
            raise
        except NotFound as err:
            raise ApiError(404, str(err)) from None
        except UsageError as err:
            raise ApiError(400, str(err)) from None
        except HivetoolError as err:
            raise ApiError(422, str(err)) from None
        except RecursionError:
            raise ApiError(422, "the hive nests too deeply to show") from None

    # ------------------------------------------------------------------ states
    def _state(self, params: Params, role: str | None = None) -> State:
        source = self.sources.get(role or params.get("target") or MAIN)
        return source.state(_flag(params, "logs", self.replay_logs))

    # ------------------------------------------------------------------ endpoints
    def info(self, params: Params) -> dict[str, Any]:
        from .. import __version__

        replayed = _flag(params, "logs", self.replay_logs)
        targets = {}
        for role in self.sources.roles():
            source = self.sources.get(role)
            document = source.describe(False)  # as stored: whether a replay would change anything
            if replayed:
                try:
                    document["replayed_state"] = source.describe(True)
                except HivetoolError as err:  # a dirty hive without usable logs: the page says so
                    document["replayed_state"] = {"error": str(err)}
            targets[role] = document
        return {"version": __version__, "replay_logs": replayed, "default_replay_logs": self.replay_logs,
                "roles": self.sources.roles(), "targets": targets,
                "limits": {"page": nodes.PAGE, "search": search.MAX_MATCHES, "changes": compare.MAX_CHANGES,
                           "listed_raw": values.LISTED_RAW}}

    def children(self, params: Params) -> dict[str, Any]:
        state = self._state(params)
        with state.lock:
            return nodes.children(state.target, params.get("path", ""), _number(params, "offset", 0),
                                  _number(params, "limit", nodes.PAGE))

    def key(self, params: Params) -> dict[str, Any]:
        state = self._state(params)
        with state.lock:
            node = nodes.node_at(state.target, params.get("path", ""))
            document = nodes.describe(node)
            document["value_count"] = document.pop("values")  # "values" is the list here
            document["values"] = [values.value_json(key, value) for key, value in values.values_of(node.keys)]
            return document

    def value(self, params: Params) -> dict[str, Any]:
        state = self._state(params)
        with state.lock:
            node = nodes.node_at(state.target, params.get("path", ""))
            key, found = values.find_value(node.keys, params.get("name", ""))
            return dict(values.value_json(key, found, raw_limit=None), path=node.path)

    def resolve(self, params: Params) -> dict[str, Any]:
        text = params.get("q", "")
        if not text.strip():
            raise ApiError(400, "paste a registry path, such as HKLM\\SYSTEM\\CurrentControlSet\\Services")
        state = self._state(params)
        with state.lock:
            return nodes.resolve(state.target, text)

    def search(self, params: Params) -> dict[str, Any]:
        pattern = params.get("q", "")
        if not pattern:
            raise ApiError(400, "give something to search for")
        scope = params.get("scope", "all")
        if scope not in ("all", "names", "data"):
            raise ApiError(400, f"scope={scope!r}: all, names or data")
        state = self._state(params)
        with state.lock:
            return search.search(state.target, pattern, regex=_flag(params, "regex"),
                                 case_sensitive=_flag(params, "case"), names=scope != "data",
                                 data=scope != "names", limit=_number(params, "limit", search.MAX_MATCHES))

    def _recovered(self, state: State) -> deleted.Deleted:
        found: deleted.Deleted = state.cached("deleted", lambda: deleted.recover_all(state.target))
        return found

    def _timeline(self, state: State) -> timeline.Timeline:
        def make() -> timeline.Timeline:
            return timeline.build(state.target, self._recovered(state).items)

        built: timeline.Timeline = state.cached("timeline", make)
        return built

    def timeline(self, params: Params) -> dict[str, Any]:
        state = self._state(params)
        with state.lock:
            return timeline.buckets(self._timeline(state), _time(params, "start"), _time(params, "end"),
                                    _number(params, "buckets", timeline.BUCKETS))

    def timeline_keys(self, params: Params) -> dict[str, Any]:
        start, end = _time(params, "start"), _time(params, "end")
        if start is None or end is None:
            raise ApiError(400, "give start and end (a bucket's bounds)")
        state = self._state(params)
        with state.lock:
            return timeline.keys_between(self._timeline(state), start, end, _number(params, "offset", 0),
                                         _number(params, "limit", timeline.MAX_KEYS))

    def deleted(self, params: Params) -> dict[str, Any]:
        state = self._state(params)
        with state.lock:
            return deleted.listing(self._recovered(state))

    def deleted_item(self, params: Params) -> dict[str, Any]:
        state = self._state(params)
        with state.lock:
            return deleted.item(self._recovered(state), _number(params, "index", -1))

    def diff(self, params: Params) -> dict[str, Any]:
        if self.sources.compare is None:
            raise ApiError(400, "start the viewer with --compare OTHER to see what changed")
        after = self._state(params, MAIN)
        before = self._state(params, COMPARE)
        touched = _flag(params, "touched", True)
        with after.lock, before.lock:  # always this order: two diffs at once cannot deadlock
            key = f"diff:{touched}"
            cached: dict[str, Any] = after.cached(key, lambda: compare.compare(before.target, after.target, touched))
            return dict(cached, before=self.sources.compare.text, after=self.sources.main.text)


__all__ = ["ApiError", "ViewerApi"]
