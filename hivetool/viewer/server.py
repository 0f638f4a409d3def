"""The viewer's HTTP server: the page, its static files and the JSON API, on 127.0.0.1 only.

Why the standard library's :class:`http.server.ThreadingHTTPServer`: the viewer serves one
person on one machine (a page, a few static files, small JSON answers), which needs neither
routing nor templates nor an event loop; a WSGI or ASGI framework would add a dependency (and
its own dependencies) to a tool that must install cleanly on evidence workstations and build
machines, without doing anything here that the standard library does not. Its threads let a
slow answer (a search of a big hive) leave the tree usable meanwhile.

The security model, enforced here for every request:

* It listens on 127.0.0.1 only, and only answers requests whose ``Host`` is that address (or
  ``localhost``) with its port, so a web page elsewhere cannot reach it through DNS rebinding.
* A random token (:func:`secrets.token_urlsafe`, 256 bits) must come with every request, the
  page's own included: ``?token=`` in the URL, or the ``X-Hivetool-Token`` header the page's
  fetches send. Without it, 403 and nothing else. Other users of the machine and other sites
  in the browser cannot guess it.
* It reads only the targets given on the command line (:mod:`.sources`); no request names a
  file, and static files come from a fixed list read at start-up.
* Only GET: nothing can be changed, and no file is opened for writing.
* Every answer carries a strict Content-Security-Policy (scripts and styles only from the
  server itself, no inline script, no framing), ``X-Content-Type-Options: nosniff``,
  ``Referrer-Policy: no-referrer`` (the token never leaves in a Referer) and ``no-store``.
"""
from __future__ import annotations

import json
import os
import secrets
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .api import ApiError, ViewerApi

HOST = "127.0.0.1"
TOKEN_HEADER = "X-Hivetool-Token"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
TOKEN_MARK = "{{token}}"
# The page's scripts, in the order they build on each other. They are kept as separate files
# (one part of the page each) and served as one, viewer.js: a browser that starts cold opens a
# connection per file, which costs more than the files themselves.
SCRIPTS = ("common.js", "hex.js", "tree.js", "values.js", "search.js", "timeline.js", "deleted.js", "diff.js",
           "app.js")
BUNDLE = "viewer.js"


def load_static() -> dict[str, tuple[bytes, str]]:
    """The page's files, read once: name -> (bytes, content type). Requests can reach these
    names and nothing else."""
    found: dict[str, tuple[bytes, str]] = {}
    folder = resources.files(__package__ or "hivetool.viewer") / "static"
    for entry in folder.iterdir():
        suffix = os.path.splitext(entry.name)[1]
        if entry.is_file() and suffix in CONTENT_TYPES:
            found[entry.name] = (entry.read_bytes(), CONTENT_TYPES[suffix])
    bundle = b"".join(b"// " + name.encode() + b"\n" + found[name][0] + b"\n" for name in SCRIPTS)
    found[BUNDLE] = (bundle, CONTENT_TYPES[".js"])
    return found


class ViewerServer(ThreadingHTTPServer):
    """Serves one viewer. ``port`` 0 takes a free port; :attr:`url` is what to open."""

    daemon_threads = True  # a request still running does not keep Ctrl-C from ending the viewer

    def __init__(self, api: ViewerApi, port: int = 0, token: str | None = None) -> None:
        self.api = api
        self.token = token or secrets.token_urlsafe(32)
        self.static = load_static()
        super().__init__((HOST, port), ViewerHandler)
        self.port = int(self.server_address[1])
        self.hosts = {f"{HOST}:{self.port}", f"localhost:{self.port}"}

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/?token={self.token}"


class ViewerHandler(BaseHTTPRequestHandler):
    server: ViewerServer
    protocol_version = "HTTP/1.1"  # keep-alive: the page's many small fetches share connections
    server_version = "hivetool-view"
    sys_version = ""

    # ------------------------------------------------------------------ plumbing
    def setup(self) -> None:
        super().setup()
        # Headers and body leave in two writes; with Nagle's algorithm the second waits for the
        # client's delayed ACK, some 40 ms per answer on a kept-alive connection.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def end_headers(self) -> None:
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        if os.environ.get("HIVETOOL_DEBUG"):
            sys.stderr.write(f"hivetool view: {self.address_string()} {format % args}\n")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, document: dict[str, Any]) -> None:
        body = json.dumps(document, ensure_ascii=True, separators=(",", ":")).encode("ascii")
        self._send(status, body, "application/json; charset=utf-8")

    def _refuse(self, status: int, message: str) -> None:
        self._send(status, (message + "\n").encode(), "text/plain; charset=utf-8")

    # ------------------------------------------------------------------ checks
    def _allowed(self, params: dict[str, str]) -> bool:
        """The Host is ours and the token came with the request (compared in constant time)."""
        if self.headers.get("Host", "") not in self.server.hosts:
            self._refuse(403, "403 Forbidden: unexpected Host header")
            return False
        given = params.get("token") or self.headers.get(TOKEN_HEADER) or ""
        if not secrets.compare_digest(given.encode(), self.server.token.encode()):
            self._refuse(403, "403 Forbidden: this viewer needs its token (open the URL it printed when it started)")
            return False
        return True

    # ------------------------------------------------------------------ methods
    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        try:
            self._get()
        except (BrokenPipeError, ConnectionResetError):  # the page went away mid-answer
            self.close_connection = True

    def _get(self) -> None:
        parts = urlsplit(self.path)
        params = {name: values[-1] for name, values in parse_qs(parts.query, keep_blank_values=True).items()}
        if not self._allowed(params):
            return
        path = parts.path
        if path in ("/", "/index.html"):
            page, content_type = self.server.static["index.html"]
            self._send(200, page.replace(TOKEN_MARK.encode(), self.server.token.encode()), content_type)
        elif path.startswith("/static/") and path[len("/static/"):] in self.server.static:
            body, content_type = self.server.static[path[len("/static/"):]]
            self._send(200, body, content_type)
        elif path.startswith("/api/"):
            self._api(path, params)
        else:
            self._refuse(404, "404 Not Found")

    def _api(self, path: str, params: dict[str, str]) -> None:
        params.pop("token", None)
        try:
            document = self.server.api.handle(path, params)
        except ApiError as err:
            self._json(err.status, {"error": err.message})
            return
        except MemoryError:
            self._json(500, {"error": "out of memory"})
            return
        except Exception as err:  # noqa: BLE001 - a bug or unclassified damage: say so, keep serving
            if os.environ.get("HIVETOOL_DEBUG"):
                import traceback

                traceback.print_exc()
            self._json(500, {"error": f"unexpected {type(err).__name__}: {err} (malformed input, or a bug in "
                                      "hivetool; HIVETOOL_DEBUG=1 shows the traceback)"})
            return
        self._json(200, document)

    def _not_allowed(self) -> None:
        parts = urlsplit(self.path)
        params = {name: values[-1] for name, values in parse_qs(parts.query, keep_blank_values=True).items()}
        if self._allowed(params):
            self.close_connection = True  # a body we do not read must not be taken for a request
            self._refuse(405, "405 Method Not Allowed: the viewer only reads")

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _not_allowed  # noqa: N815


__all__ = ["CONTENT_SECURITY_POLICY", "HOST", "TOKEN_HEADER", "ViewerServer"]
