"""hivetool view without a browser: the security model, the URL line, read-only, the JSON API.

* Every request needs the token (the page, its static files and the API alike): 403 without.
* It listens on 127.0.0.1 only and answers only requests addressed to it there.
* It reads only the targets on its command line: no parameter names a file.
* Every answer carries a strict Content-Security-Policy and ``nosniff``; the page has no inline
  script.
* The URL is the first line on stdout, flushed at once (read here from a real pipe).
* Nothing is opened for writing (the watch of test_readonly.py), and inputs keep their bytes.
* The API: first screen, pages of a wide key, pasted paths through CurrentControlSet, values
  whose offsets lead to their bytes in the file, search, timeline, deleted items, the diff,
  images, and a dirty hive as stored and replayed.
"""
from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import stat
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote

import pytest

from corpus import corpus_path, require_corpus
from hivetool.cli import main
from hivetool.viewer.api import ViewerApi
from hivetool.viewer.server import CONTENT_SECURITY_POLICY, ViewerServer
from hivetool.viewer.sources import COMPARE, MAIN, Source, Sources
from viewer_fixtures import ADDED, DELETED, RunningViewer, before_and_after, wide_hive

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_hives" / "SYSTEM"
DIRTY = "msuhanov+yarp/hives_for_tests/NewDirtyHive1/NewDirtyHive"
BIG_DATA_SYSTEM = "log2timeline+dfwinreg/_history/1785983fe52b/test_data/SYSTEM"
DELETED_BAGS = "EricZimmerman+Registry/Registry.Test/Hives/UsrClassDeletedBags.dat"
URL_LINE = re.compile(rb"http://127\.0\.0\.1:(\d+)/\?token=([A-Za-z0-9_-]{40,})\n")


class Client:
    """HTTP to an in-process viewer."""

    def __init__(self, server: ViewerServer) -> None:
        self.server = server

    def get(self, path: str, token: str | None = "", headers: dict[str, str] | None = None,
            method: str = "GET") -> tuple[int, http.client.HTTPMessage, bytes]:
        if token is not None:
            path += ("&" if "?" in path else "?") + "token=" + (token or self.server.token)
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60)
        try:
            connection.request(method, path, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.headers, response.read()
        finally:
            connection.close()

    def api(self, endpoint: str, **params: Any) -> Any:
        query = "&".join(f"{name}={quote(str(value))}" for name, value in params.items())
        status, _, body = self.get(f"/api/{endpoint}" + (f"?{query}" if query else ""))
        document = json.loads(body)
        if status != 200:
            raise LookupError(status, document.get("error"))
        return document


@contextmanager
def serving(target: Path | str, compare: Path | str | None = None, replay_logs: bool = False) -> Iterator[Client]:
    sources = Sources(Source(MAIN, str(target)), Source(COMPARE, str(compare)) if compare else None)
    server = ViewerServer(ViewerApi(sources, replay_logs), 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Client(server)
    finally:
        server.shutdown()
        server.server_close()
        sources.close()
        thread.join(timeout=10)


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    copy = tmp_path / "SYSTEM"
    shutil.copyfile(SAMPLE, copy)
    return copy


# ---------------------------------------------------------------------- the command
def test_the_url_line_comes_first_flushed_and_ctrl_c_ends_with_130(sample: Path) -> None:
    viewer = RunningViewer(str(sample))
    try:
        match = URL_LINE.fullmatch(viewer.first_line)
        assert match, viewer.first_line
        assert viewer.get("/").status == 200
        assert viewer.get("/", token=False).status == 403
    finally:
        code, err = viewer.stop()
    assert code == 130, err
    assert b"viewer stopped" in err and b"Traceback" not in err


def test_a_target_that_cannot_be_read_fails_before_any_url(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a hive\n" * 500)
    code, out, err = _run_to_end(["view", str(bogus), "--no-browser"])
    assert code == 3 and out == b"" and b"hivetool: error:" in err


def test_a_port_in_use_is_an_io_error(sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert main(["view", str(sample), "--port", str(port), "--no-browser"]) == 6
    captured = capsys.readouterr()
    assert captured.out == "" and f"127.0.0.1:{port}" in captured.err


def _run_to_end(argv: list[str]) -> tuple[int, bytes, bytes]:
    import subprocess
    import sys

    from viewer_fixtures import ENTRY

    done = subprocess.run([sys.executable, "-c", ENTRY, *argv], capture_output=True, timeout=120)
    return done.returncode, done.stdout, done.stderr


def test_view_is_listed_without_json() -> None:
    """view is interactive: it takes no --json (README says so), unlike the reporting commands."""
    import click

    from hivetool.cli import cli

    command = cli.get_command(click.Context(cli), "view")
    assert command is not None
    options = {option for param in command.params for option in param.opts}
    assert "--json" not in options and {"--compare", "--port", "--no-browser", "--replay-logs"} <= options
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "hivetool view " in readme and "`view` is interactive and has no `--json`" in readme


# ---------------------------------------------------------------------- security
PATHS = ["/", "/index.html", "/static/app.js", "/static/app.css", "/static/icon.svg", "/api/info",
         "/api/children?path=", "/api/key?path=Select", "/api/search?q=a", "/nowhere"]


def test_every_request_needs_the_token(sample: Path) -> None:
    with serving(sample) as client:
        for path in PATHS:
            for token in (None, "wrong-" + client.server.token[6:], client.server.token[:-1]):
                status, headers, body = client.get(path, token=token)
                assert status == 403, (path, token)
                assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
                assert b"Select" not in body and b"ControlSet" not in body
            status, _, _ = client.get(path)
            assert status == (404 if path == "/nowhere" else 200), path
        # the page's fetches send it as a header
        status, _, _ = client.get("/api/info", token=None, headers={"X-Hivetool-Token": client.server.token})
        assert status == 200


def test_every_answer_has_the_security_headers_and_the_page_no_inline_script(sample: Path) -> None:
    with serving(sample) as client:
        for path in PATHS + ["/api/key?path=Nowhere", "/api/children?offset=x"]:
            _, headers, _ = client.get(path)
            assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, path
            assert headers["X-Content-Type-Options"] == "nosniff", path
            assert headers["Referrer-Policy"] == "no-referrer" and headers["Cache-Control"] == "no-store"
        assert "script-src 'self'" in CONTENT_SECURITY_POLICY and "unsafe-inline" not in CONTENT_SECURITY_POLICY
        _, headers, page = client.get("/")
        html = page.decode()
        assert headers["Content-Type"].startswith("text/html")
        scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
        assert scripts and all('src="/static/' in attrs and body.strip() == "" for attrs, body in scripts)
        assert not re.search(r"\son[a-z]+\s*=", html), "inline event handlers are inline script"
        assert "style=" not in html and "<style" not in html
        assert not re.search(r"(src|href)=\"(https?:)?//", html), "nothing may come from elsewhere"
        for name in re.findall(r'src="/static/([a-z]+\.js)', html):
            _, headers, _ = client.get(f"/static/{name}")
            assert headers["Content-Type"].startswith("text/javascript"), name


def test_the_page_script_holds_every_script_file() -> None:
    """viewer.js is the scripts in order: a new file must join the list to reach the page."""
    from hivetool.viewer.server import BUNDLE, SCRIPTS, load_static

    static = load_static()
    files = sorted(name for name in static if name.endswith(".js") and name != BUNDLE)
    assert sorted(SCRIPTS) == files and SCRIPTS[0] == "common.js" and SCRIPTS[-1] == "app.js"
    bundle = static[BUNDLE][0]
    assert all(static[name][0] in bundle for name in SCRIPTS)


def test_it_listens_on_loopback_only_and_checks_the_host(sample: Path) -> None:
    with serving(sample) as client:
        assert client.server.server_address[0] == "127.0.0.1"
        status, _, _ = client.get("/api/info", headers={"Host": f"attacker.example:{client.server.port}"})
        assert status == 403, "a rebound name must not reach the viewer"
        status, _, _ = client.get("/api/info", headers={"Host": f"localhost:{client.server.port}"})
        assert status == 200
        try:
            others = {str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
        except OSError:  # a machine whose name does not resolve: nothing else to try
            others = set()
        for address in others - {"127.0.0.1"}:
            with pytest.raises(OSError):
                socket.create_connection((address, client.server.port), timeout=5).close()


def test_requests_cannot_name_files_or_change_anything(sample: Path) -> None:
    with serving(sample) as client:
        assert client.get("/static/../sources.py")[0] == 404
        assert client.get("/static/%2e%2e/server.py")[0] == 404
        assert client.get("/static/")[0] == 404
        with pytest.raises(LookupError) as refused:
            client.api("children", path="", target="/etc/passwd")
        assert refused.value.args[0] == 400
        with pytest.raises(LookupError) as missing:
            client.api("children", path="/etc/passwd")
        assert missing.value.args[0] == 404
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            assert client.get("/api/info", method=method)[0] == 405
            assert client.get("/api/info", token=None, method=method)[0] == 403


# ---------------------------------------------------------------------- read-only
def test_viewing_opens_nothing_for_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every endpoint, as stored and replayed, on a dirty hive with its logs and a compared hive:
    no open that could write, no change of name, mode, times or bytes, no file beside them, and
    no file opened but the targets, their logs and the viewer's own package files."""
    from test_readonly import Watch, fingerprint

    require_corpus()
    source = corpus_path(DIRTY)
    for sibling in source.parent.iterdir():
        if sibling.name.startswith(source.name):
            shutil.copyfile(sibling, tmp_path / sibling.name)
    dirty = tmp_path / source.name
    other = tmp_path / "other"
    shutil.copyfile(SAMPLE, other)
    watched = sorted(p for p in tmp_path.iterdir())
    for path in watched:
        path.chmod(0o444)
    before = fingerprint(watched)
    watch = Watch(watched)
    opened: list[str] = []
    real_open = os.open

    def record(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if not isinstance(path, int):
            opened.append(os.path.realpath(os.fspath(path)))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", record)
    watch.install(monkeypatch)
    with serving(dirty, compare=other) as client:
        for logs in (0, 1):
            client.api("info", logs=logs)
            client.api("children", path="", logs=logs)
            name = client.api("children", path="", logs=logs)["children"][0]["name"]
            client.api("key", path=name, logs=logs)
            client.api("resolve", q=name, logs=logs)
            client.api("search", q="e", logs=logs)
            timeline = client.api("timeline", logs=logs)
            client.api("timeline/keys", start=timeline["start"], end=timeline["end"], logs=logs)
            client.api("deleted", logs=logs)
            client.api("diff", logs=logs)
    monkeypatch.undo()
    assert watch.opened, "the watch saw no open of the targets"
    assert watch.violations == []
    assert fingerprint(watched) == before
    assert sorted(tmp_path.iterdir()) == watched, "no file may appear beside the inputs"
    package = str(ROOT / "hivetool")
    allowed = {os.path.realpath(p) for p in watched}
    strays = [p for p in opened if p not in allowed and not p.startswith(package) and not p.endswith((".py", ".pyc"))
              and not p.startswith(("/proc/", "/dev/", "/sys/"))]
    assert strays == [], "the viewer opened files that are not its targets"
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o444 for p in watched)


# ---------------------------------------------------------------------- the API
def test_first_screen_and_pasted_paths(sample: Path) -> None:
    with serving(sample) as client:
        info = client.api("info")
        assert info["targets"]["main"]["kind"] == "hive" and info["roles"] == ["main"]
        assert info["targets"]["main"]["mount"] == "HKEY_LOCAL_MACHINE\\SYSTEM"
        top = client.api("children", path="")
        assert [c["name"] for c in top["children"]] == ["ControlSet001", "ControlSet002", "Select"]
        assert all(c["path"] == c["name"] and c["last_write"].endswith("Z") for c in top["children"])
        found = client.api("resolve", q="HKLM\\SYSTEM\\CurrentControlSet\\Services")
        assert found["path"] == "ControlSet001\\Services"
        assert found["ancestors"] == ["", "ControlSet001", "ControlSet001\\Services"]
        assert any("ControlSet001" in note for note in found["notes"])
        assert client.api("resolve", q="  Computer\\HKEY_LOCAL_MACHINE\\SYSTEM\\select ")["path"] == "Select"
        with pytest.raises(LookupError) as missing:
            client.api("resolve", q="HKLM\\SYSTEM\\NoSuchKey")
        assert missing.value.args[0] == 404 and "NoSuchKey" in missing.value.args[1]


def test_a_wide_key_comes_a_page_at_a_time(tmp_path: Path) -> None:
    hive = wide_hive(tmp_path / "WIDE")
    with serving(hive) as client:
        page = client.api("children", path="Wide")
        assert page["total"] == 1000 and len(page["children"]) == 1000 and not page["more"]
        first = page["children"][0]
        assert (first["name"], first["subkeys"], first["values"]) == ("Item00000", 1, 2)
        part = client.api("children", path="Wide", offset=990, limit=5)
        assert [c["name"] for c in part["children"]] == [f"Item{n:05d}" for n in range(990, 995)] and part["more"]


def test_value_offsets_lead_to_the_bytes_in_the_file() -> None:
    """inline, one cell and big data: the hex view's file offsets are where the bytes are."""
    require_corpus()
    path = corpus_path(BIG_DATA_SYSTEM)
    data = path.read_bytes()
    from hivetool.regf.hive import Hive

    hive = Hive.open(path)
    wanted = {"inline": None, "cell": None, "big": None}
    for key in hive.walk():
        for value in key.values():
            size = len(value.raw)
            kind = "inline" if 0 < size <= 4 else "big" if size > 16344 else "cell" if size else None
            if kind and wanted[kind] is None:
                wanted[kind] = (key.path, value.name)
        if all(wanted.values()):
            break
    assert all(wanted.values()), wanted
    with serving(path) as client:
        for kind, (key_path, name) in wanted.items():
            value = client.api("value", path=key_path, name=name)
            raw = bytes.fromhex(value["raw"])
            where = value["location"]
            assert where["kind"] == kind
            assert data[value["offset"] + 4:value["offset"] + 6] == b"vk"
            if kind == "big":
                assert data[where["offset"] + 4:where["offset"] + 6] == b"db"
                pieces = b"".join(data[s["offset"]:s["offset"] + s["size"]] for s in where["segments"])
                assert pieces == raw
            else:
                assert data[where["offset"]:where["offset"] + len(raw)] == raw
            listed = next(v for v in client.api("key", path=key_path)["values"] if v["name"] == name)
            assert listed["raw_truncated"] == (len(raw) > 4096) and listed["offset"] == value["offset"]


def test_search_timeline_and_deleted_items() -> None:
    require_corpus()
    path = corpus_path(DELETED_BAGS)
    with serving(path) as client:
        found = client.api("search", q="bags", scope="names")
        assert found["count"] > 0 and all("bags" in (m["path"] + m.get("value", "")).lower() for m in found["matches"])
        assert client.api("search", q="^Local", regex=1, scope="names")["count"] >= 1
        timeline = client.api("timeline", buckets=30)
        assert sum(b["keys"] for b in timeline["buckets"]) == timeline["total"] > 0
        assert int(timeline["buckets"][0]["start"]) == int(timeline["first"])
        every = client.api("timeline/keys", start=timeline["first"], end=timeline["last"], limit=1000)
        assert every["total"] == timeline["total"]
        times = [int(k["last_write_filetime"]) for k in every["keys"]]
        assert times == sorted(times)
        zoomed = client.api("timeline", start=timeline["buckets"][0]["start_iso"], end=timeline["buckets"][0]["end_iso"])
        assert zoomed["total"] == timeline["total"] and sum(b["keys"] for b in zoomed["buckets"]) == \
            timeline["buckets"][0]["keys"]
        deleted = client.api("deleted")
        assert deleted["available"] and deleted["counts"]["keys"] >= 1
        data = path.read_bytes()
        for item in deleted["items"]:
            signature = b"nk" if item["kind"] == "key" else b"vk"
            assert data[item["offset"] + 4:item["offset"] + 6] == signature, item
        one = client.api("deleted/item", index=deleted["items"][0]["index"])
        assert one["offset"] == deleted["items"][0]["offset"]
        assert timeline["recovered"] == sum(1 for i in deleted["items"] if i["kind"] == "key" and i["last_write"])


def test_the_diff_shows_what_changed_from_other_to_target(tmp_path: Path) -> None:
    before, after = before_and_after(SAMPLE, tmp_path)
    with serving(after, compare=before) as client:
        assert client.api("info")["roles"] == ["main", "compare"]
        diff = client.api("diff", touched=0)
        changes = {c["path"]: c for c in diff["changes"]}
        top = ADDED.split("\\")[0]
        assert changes[top]["change"] == "added" and changes[top]["keys"] == 2
        assert changes[DELETED]["change"] == "deleted"
        assert [v["name"] for v in changes[DELETED]["contents"][0]["values"]] == ["Gone"]
        select = changes["Select"]
        assert select["change"] == "changed"
        (value,) = select["values"]
        assert (value["name"], value["change"], value["new"]["data"]) == ("LastKnownGood", "changed", 7)
        assert value["old"]["data"] != 7
        assert "touched" not in diff["counts"]
        # the other side's tree is there too
        assert DELETED in [c["name"] for c in client.api("children", path="", target="compare")["children"]]
    with serving(after) as client:
        with pytest.raises(LookupError) as refused:
            client.api("diff")
        assert refused.value.args[0] == 400


def test_a_dirty_hive_as_stored_and_replayed(corpus_copy: Any) -> None:
    dirty = corpus_copy(DIRTY, with_logs=True)
    with serving(dirty) as client:
        info = client.api("info")
        assert info["targets"]["main"]["replayable"] and not info["replay_logs"]
        assert [c["name"] for c in client.api("children", path="")["children"]] == ["Key1", "Key2"]
        assert [c["name"] for c in client.api("children", path="", logs=1)["children"]] == ["Key3"]
        replayed = client.api("info", logs=1)["targets"]["main"]["replayed_state"]
        assert replayed["hives"][0]["replayed"] and replayed["hives"][0]["notes"]
    with serving(dirty, replay_logs=True) as client:
        assert [c["name"] for c in client.api("children", path="")["children"]] == ["Key3"]


def test_an_image_lists_its_hives_under_the_registry_roots(tmp_path: Path) -> None:
    from images import build_image

    image = build_image(tmp_path / "image", "dirty")
    with serving(image) as client:
        info = client.api("info")
        assert info["targets"]["main"]["kind"] == "image" and info["targets"]["main"]["replayable"]
        roots = [c["name"] for c in client.api("children", path="")["children"]]
        assert roots[:2] == ["HKEY_LOCAL_MACHINE", "HKEY_USERS"] and "HKEY_CLASSES_ROOT" in roots
        hives = [c["name"] for c in client.api("children", path="HKEY_LOCAL_MACHINE")["children"]]
        assert {"SYSTEM", "SOFTWARE", "SAM", "SECURITY"} <= set(hives)
        found = client.api("resolve", q="HKLM\\SYSTEM\\CurrentControlSet\\Services")
        assert found["path"].upper() == "HKEY_LOCAL_MACHINE\\SYSTEM\\CONTROLSET001\\SERVICES"
        assert found["ancestors"][:3] == ["", "HKEY_LOCAL_MACHINE", "HKEY_LOCAL_MACHINE\\SYSTEM"]
        services = client.api("children", path=found["path"])
        assert services["total"] > 10 and services["children"][0]["path"].startswith(found["path"] + "\\")
        classes = client.api("children", path="HKEY_CLASSES_ROOT")
        assert classes["path"] == "HKEY_CLASSES_ROOT"
        matches = client.api("search", q="ProfileList", scope="names")["matches"]
        assert any(m["path"].startswith("HKEY_LOCAL_MACHINE\\SOFTWARE\\") for m in matches)


def test_a_damaged_hive_of_an_image_hides_nothing_else(tmp_path: Path) -> None:
    from images import build_image

    image = build_image(tmp_path / "image", "modern")
    sam = image / "Windows" / "System32" / "config" / "SAM"
    data = bytearray(sam.read_bytes())
    data[4096:4100] = b"xxxx"  # the first bin's signature: the root key is in a damaged bin
    sam.write_bytes(bytes(data))
    assert any("SAM" in problem for problem in Source(MAIN, str(image)).open_all(False))
    with serving(image) as client:
        info = client.api("info")["targets"]["main"]
        assert any("SAM" in problem for problem in info["problems"])
        assert "HKEY_LOCAL_MACHINE\\SYSTEM" not in " ".join(info["problems"])
        found = client.api("search", q="ProfileList", scope="names")
        assert found["count"] >= 1 and any("SAM" in problem for problem in found["problems"])
        assert client.api("timeline")["total"] > 1000
        with pytest.raises(LookupError) as broken:
            client.api("children", path="HKEY_LOCAL_MACHINE\\SAM")
        assert broken.value.args[0] == 422 and "hbin" in broken.value.args[1]


def test_errors_are_json_with_a_status(sample: Path) -> None:
    with serving(sample) as client:
        status, headers, body = client.get("/api/key?path=No\\Such")
        assert status == 404 and headers["Content-Type"].startswith("application/json")
        assert "No" in json.loads(body)["error"]
        assert client.get("/api/children?offset=ten")[0] == 400
        assert client.get("/api/value?path=Select&name=Nope")[0] == 404
        assert client.get("/api/nope")[0] == 404
