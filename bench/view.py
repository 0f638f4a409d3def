"""Viewer figures: how soon ``hivetool view`` answers what the page needs.

    .venv/bin/python bench/view.py            # print the figures
    .venv/bin/python bench/view.py --write    # also rewrite bench/RESULTS_view.md

Budgets: the first screen (the root key's subkeys) of regipy's SYSTEM hive (11.7 MB, from the
corpus) within 300 ms of the request; a key with 1,000 subkeys expanded within 100 ms. The
viewer runs as users run it, a ``hivetool view --no-browser`` process; requests go over one
kept-alive HTTP connection, as a browser sends them. Each figure is taken on a viewer started
for it (the first request is the cold one, paying for lazy imports and first page faults of
the mapped hive), then as the median of repeated requests. With Debian's chromium and
chromedriver present it also times the first screen in a real headless browser: from
navigation start until the tree shows the root's subkeys.
"""
from __future__ import annotations

import argparse
import http.client
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the hive the viewer's tests expand is the one measured

from viewer_fixtures import wide_hive  # noqa: E402

CORPUS = Path(os.environ.get("HIVETOOL_CORPUS", ROOT.parent / "shared" / "corpus"))
SYSTEM = CORPUS / "mkorman90+regipy" / "regipy_tests" / "data" / "SYSTEM"
SCRATCH = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
HIVETOOL = [str(ROOT / ".venv" / "bin" / "python"), "-c",
            "import sys; from hivetool.cli import entry_point; sys.argv[0] = 'hivetool'; entry_point()"]
REPEATS = 20
LOAD = 0.0


class Viewer:
    """A ``hivetool view`` process and one HTTP connection to it."""

    def __init__(self, *args: str) -> None:
        started = time.perf_counter()
        self.process = subprocess.Popen([*HIVETOOL, "view", *args, "--no-browser"], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        self.url = self.process.stdout.readline().strip()  # type: ignore[union-attr]
        self.startup = time.perf_counter() - started
        parts = urlsplit(self.url)
        self.token = parts.query.split("=", 1)[1]
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)

    def get(self, path: str) -> float:
        """Seconds from sending the request to having read the whole answer."""
        joiner = "&" if "?" in path else "?"
        started = time.perf_counter()
        self.connection.request("GET", f"{path}{joiner}token={self.token}")
        response = self.connection.getresponse()
        body = response.read()
        took = time.perf_counter() - started
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status} {body[:200]!r}")
        return took

    def close(self) -> None:
        self.connection.close()
        self.process.terminate()
        self.process.wait(timeout=30)


def timed(viewer: Viewer, path: str) -> dict[str, float]:
    cold = viewer.get(path)
    warm = [viewer.get(path) for _ in range(REPEATS)]
    return {"cold": cold, "median": statistics.median(warm), "max": max(warm)}


def first_screen(hive: Path) -> dict[str, float]:
    """What the page asks for before it can show the root's subkeys, in its order."""
    viewer = Viewer(str(hive))
    try:
        page = sum(viewer.get(p) for p in ("/", "/static/app.css", "/static/viewer.js"))
        info = viewer.get("/api/info")
        root = timed(viewer, "/api/children?path=")
        walks = {name: viewer.get(path) for name, path in (
            ("search", "/api/search?q=WKS-WIN732BITA"), ("deleted", "/api/deleted"),
            ("timeline", "/api/timeline"), ("timeline_again", "/api/timeline"))}
        return {"startup": viewer.startup, "page_and_scripts": page, "info": info, **root, **walks}
    finally:
        viewer.close()


def expand(hive: Path, key: str) -> dict[str, float]:
    viewer = Viewer(str(hive))
    try:
        viewer.get("/api/info")
        viewer.get("/api/children?path=")
        return timed(viewer, f"/api/children?path={quote(key)}")
    finally:
        viewer.close()


def in_browser(hive: Path) -> tuple[float, float, float] | None:
    """Navigation start to the root's subkeys on screen, in headless chromium: the browser's
    first page (a cold renderer), the same from the moment its HTML had arrived, and the median
    of reloads; None without chromium."""
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        return None
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait
    except ImportError:
        return None
    os.environ["SE_OFFLINE"] = "true"  # never let Selenium Manager download a browser
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or ""
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    viewer = Viewer(str(hive))
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or ""), options=options)
    try:
        times = []
        after_html = 0.0
        for _ in range(6):
            driver.get(viewer.url)
            WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#tree li li .tree-row"))
            # performance.now() counts from navigation start
            now, html = driver.execute_script(
                "return [performance.now(), performance.getEntriesByType('navigation')[0].responseEnd]")
            times.append(float(now) / 1000)
            if len(times) == 1:
                after_html = (float(now) - float(html)) / 1000
        return times[0], after_html, statistics.median(times[1:])
    finally:
        driver.quit()
        viewer.close()


def ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite bench/RESULTS_view.md")
    args = parser.parse_args()
    if not SYSTEM.is_file():
        sys.exit(f"corpus hive missing: {SYSTEM} (set HIVETOOL_CORPUS)")
    global LOAD
    LOAD = os.getloadavg()[0]
    folder = Path(tempfile.mkdtemp(dir=SCRATCH))
    try:
        wide = folder / "WIDE"
        wide_hive(wide)
        screen = first_screen(SYSTEM)
        wide_root = expand(wide, "")
        wide_key = expand(wide, "Wide")
        browser = in_browser(SYSTEM)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    lines = [
        "# Viewer figures",
        "",
        f"Machine: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs. "
        "Produced by `bench/view.py`: a `hivetool view --no-browser` process, requests over one kept-alive "
        f"connection; cold = the first request of that kind after start, then median and max of {REPEATS}. "
        f"Load average when it started: {LOAD:.1f} (other work may share the CPUs).",
        "",
        "| what | budget | cold | median | max |",
        "|---|---|---|---|---|",
        f"| first screen of regipy's SYSTEM (11.7 MB): `/api/children` of the root, after `/api/info` as the page "
        f"asks | 300 ms | {ms(screen['cold'])} "
        f"| {ms(screen['median'])} | {ms(screen['max'])} |",
        f"| a key with 1,000 subkeys expanded: `/api/children` of `Wide` | 100 ms | {ms(wide_key['cold'])} "
        f"| {ms(wide_key['median'])} | {ms(wide_key['max'])} |",
        f"| (the same hive's root, 1 subkey, for comparison) | | {ms(wide_root['cold'])} | {ms(wide_root['median'])} "
        f"| {ms(wide_root['max'])} |",
        "",
        "Around the first screen of SYSTEM:",
        "",
        f"- start-up, from starting the process to the URL line (the hive opened, mapped): {ms(screen['startup'])}",
        f"- the page, its stylesheet and its script (3 requests, cold): {ms(screen['page_and_scripts'])}",
        f"- `/api/info` (cold): {ms(screen['info'])}",
        "- in headless chromium, from navigation start to the root's subkeys on screen: "
        + (f"{ms(browser[0])} on the browser's first page (a cold renderer), of which {ms(browser[1])} after the "
           f"page's HTML had arrived; {ms(browser[2])} on reloads (median of 5)" if browser is not None
           else "- (chromium or chromedriver missing)"),
        "",
        "What walks the whole of SYSTEM (30,756 keys, 73,456 values), each once (cold):",
        "",
        f"- search for `WKS-WIN732BITA` in names and data: {ms(screen['search'])}",
        f"- deleted items (the recovery): {ms(screen['deleted'])}",
        f"- the timeline's buckets (every key's time; the recovery is kept from above): {ms(screen['timeline'])}; "
        f"zooming afterwards: {ms(screen['timeline_again'])}",
        "",
        "A page of children reads each child's key node once (name, time, counts) and nothing below it, so",
        "the cost grows with the page (1,000 children by default, 5,000 at most), not with the hive.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        (HERE / "RESULTS_view.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
