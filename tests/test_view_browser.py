"""hivetool view in a real browser: Debian's chromium, headless, driven by selenium through
Debian's /usr/bin/chromedriver (never a downloaded browser or driver: SE_OFFLINE is set and both
paths are given). Each test starts a real ``hivetool view --no-browser`` on corpus hives and
uses the page as a person would: the first screen, a pasted path, a value in hex, the keyboard,
search, the timeline, deleted items, the diff with --compare, the replay toggle. Screenshots go
to .ci/artifacts/ (never committed). Without chromium, chromedriver or selenium the tests skip
with the reason, except under CI=true, where that is a failure.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from corpus import IN_CI, corpus_path, require_corpus
from viewer_fixtures import ADDED, DELETED, RunningViewer, before_and_after

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / ".ci" / "artifacts"
SYSTEM = "mkorman90+regipy/regipy_tests/data/SYSTEM"
SMALLER_SYSTEM = "log2timeline+dfwinreg/_history/1785983fe52b/test_data/SYSTEM"
DELETED_BAGS = "EricZimmerman+Registry/Registry.Test/Hives/UsrClassDeletedBags.dat"
DIRTY = "msuhanov+yarp/hives_for_tests/NewDirtyHive1/NewDirtyHive"
COMPUTER_NAME = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\ComputerName\\ComputerName"
WAIT = 30


def _missing() -> str | None:
    if shutil.which("chromium") is None:
        return "Debian's chromium is not installed (apt-get install chromium chromium-driver)"
    if not os.path.exists("/usr/bin/chromedriver"):
        return "Debian's chromedriver is not installed (apt-get install chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    reason = _missing()
    if reason:
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    saved = os.environ.get("SE_OFFLINE")
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never download anything
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or ""
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1400,900"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()
        if saved is None:
            os.environ.pop("SE_OFFLINE", None)
        else:
            os.environ["SE_OFFLINE"] = saved


@pytest.fixture(scope="module")
def copies(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_corpus()
    return tmp_path_factory.mktemp("view")


@pytest.fixture(scope="module")
def system(copies: Path) -> Iterator[RunningViewer]:
    """regipy's 11.7 MB SYSTEM, copied (corpus files are never touched)."""
    hive = copies / "SYSTEM"
    shutil.copyfile(corpus_path(SYSTEM), hive)
    viewer = RunningViewer(str(hive))
    try:
        yield viewer
    finally:
        viewer.stop()


def wait(driver: Any, condition: Callable[[Any], Any], message: str = "") -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT).until(condition, message)


def css(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(driver.find_elements(By.CSS_SELECTOR, selector))


def shot(driver: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"view-{name}.png"))


def open_page(driver: Any, viewer: RunningViewer) -> None:
    driver.get(viewer.url)
    wait(driver, lambda d: css(d, "#tree li li .tree-row"), "the first screen never showed the root's subkeys")
    wait(driver, lambda d: css(d, "#key-path"), "the root key's values never showed")


def tree_names(driver: Any) -> list[str]:
    return [row.text.split("\n")[0] for row in css(driver, "#tree .tree-top > li > ul > li > .tree-row .name")]


def selected_path(driver: Any) -> str:
    found = css(driver, "#tree li[aria-selected=true]")
    return str(found[0].get_attribute("data-path")) if found else ""


def heading(driver: Any) -> str:
    found = css(driver, "#key-path")
    return str(found[0].text) if found else ""


def severe_console_messages(driver: Any) -> list[str]:
    """Errors the page logged: a Content-Security-Policy violation is one, so is a script error."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def test_the_first_screen_shows_the_root_keys_subkeys(browser: Any, system: RunningViewer) -> None:
    browser.get_log("browser")
    open_page(browser, system)
    names = tree_names(browser)
    assert names[:2] == ["ControlSet001", "ControlSet002"] and "Select" in names
    assert "HKEY_LOCAL_MACHINE\\SYSTEM" in css(browser, "#tree .tree-top > li > .tree-row")[0].text
    times = [e.text for e in css(browser, "#tree .tree-top > li > ul > li > .tree-row .time")]
    assert all(len(t) == 19 and t[4] == "-" for t in times), times
    shot(browser, "first-screen")
    assert severe_console_messages(browser) == []


def test_a_pasted_path_opens_and_a_value_reads_in_hex(browser: Any, system: RunningViewer) -> None:
    from selenium.webdriver.common.keys import Keys

    open_page(browser, system)
    bar = css(browser, "#path-input")[0]
    bar.clear()
    bar.send_keys(COMPUTER_NAME, Keys.ENTER)
    wanted = "ControlSet001\\Control\\ComputerName\\ComputerName"
    wait(browser, lambda d: selected_path(d) == wanted, "the pasted path was not opened in the tree")
    wait(browser, lambda d: heading(d).endswith(wanted))
    assert heading(browser) == "HKEY_LOCAL_MACHINE\\SYSTEM\\" + wanted
    assert "CurrentControlSet -> ControlSet001" in css(browser, "#status")[0].text
    row = wait(browser, lambda d: [r for r in css(d, "#values tbody tr") if r.text.startswith("ComputerName")])[0]
    assert "REG_SZ" in row.text and '"WKS-WIN732BITA"' in row.text
    row.click()
    box = wait(browser, lambda d: [b for b in css(d, "#hex") if b.is_displayed()])[0]
    assert "57 00 4b 00 53 00 2d 00" in box.text  # "WKS-" in UTF-16LE
    assert "one data cell, first byte at file offset 0x" in box.text
    shot(browser, "value-hex")


def test_the_keyboard_moves_through_the_tree(browser: Any, system: RunningViewer) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    open_page(browser, system)
    css(browser, "#tree .tree-top > li > .tree-row")[0].click()
    keys = ActionChains(browser)
    keys.send_keys(Keys.ARROW_DOWN).perform()
    wait(browser, lambda d: selected_path(d) == "ControlSet001")
    keys.send_keys(Keys.ARROW_RIGHT).perform()  # expand
    wait(browser, lambda d: css(d, "li[data-path='ControlSet001'][aria-expanded=true] li"))
    keys.send_keys(Keys.ARROW_RIGHT).perform()  # first child
    wait(browser, lambda d: selected_path(d).startswith("ControlSet001\\"))
    first_child = selected_path(browser)
    keys.send_keys(Keys.ARROW_DOWN).perform()
    wait(browser, lambda d: selected_path(d) not in (first_child, "ControlSet001"))
    wait(browser, lambda d: heading(d).endswith(selected_path(d)))
    keys.send_keys(Keys.ARROW_LEFT).perform()  # to the parent (the child is closed)
    wait(browser, lambda d: selected_path(d) == "ControlSet001")
    keys.send_keys(Keys.ENTER).perform()  # collapse
    wait(browser, lambda d: css(d, "li[data-path='ControlSet001'][aria-expanded=false]"))
    keys.send_keys(Keys.END).perform()
    wait(browser, lambda d: selected_path(d) == "WPA")
    keys.send_keys(Keys.HOME).perform()
    wait(browser, lambda d: selected_path(d) == "")


def test_search_finds_and_opens_a_key(browser: Any, system: RunningViewer) -> None:
    from selenium.webdriver.common.keys import Keys

    open_page(browser, system)
    box = css(browser, "#search-input")[0]
    box.send_keys("WKS-WIN732BITA", Keys.ENTER)
    results = wait(browser, lambda d: css(d, "#search-results li"), "no search results")
    assert "match" in css(browser, "#search-summary")[0].text
    assert any("ControlSet001\\Control\\ComputerName\\ComputerName" in r.text for r in results)
    shot(browser, "search")
    link = next(r for r in results if "Tcpip\\Parameters" in r.text).find_element("css selector", "a.path")
    link.click()
    wait(browser, lambda d: selected_path(d).lower() == "controlset001\\services\\tcpip\\parameters")
    assert css(browser, "#view-browse")[0].is_displayed()


def test_the_timeline_lists_a_bucket_and_zooms(browser: Any, system: RunningViewer) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    open_page(browser, system)
    css(browser, "#tabs [data-view=timeline]")[0].click()
    wait(browser, lambda d: css(d, "#timeline-chart rect.bar"), "no chart")
    summary = css(browser, "#timeline-summary")[0].text
    assert summary.startswith("30756 keys with a time") and "showing 30756 from" in summary
    bars = [b for b in css(browser, "#timeline-chart rect.bar") if int(b.get_attribute("data-keys") or 0) > 0]
    ActionChains(browser).move_to_element(bars[-1]).click().perform()
    wait(browser, lambda d: css(d, "#timeline-keys li.live-key"), "clicking a bar listed no keys")
    assert css(browser, "#timeline-keys-title")[0].text.startswith("Keys written")
    shot(browser, "timeline")
    groups = css(browser, "#timeline-chart g.bucket")
    ActionChains(browser).click_and_hold(groups[-12]).move_to_element(groups[-8]).move_to_element(groups[-2]) \
        .release(groups[-2]).perform()
    wait(browser, lambda d: css(d, "#timeline-summary")[0].text != summary, "dragging did not zoom")
    assert "showing" in css(browser, "#timeline-summary")[0].text
    shot(browser, "timeline-zoomed")
    css(browser, "#timeline-reset")[0].click()
    wait(browser, lambda d: css(d, "#timeline-summary")[0].text == summary)
    bars = [b for b in css(browser, "#timeline-chart rect.bar") if int(b.get_attribute("data-keys") or 0) > 0]
    ActionChains(browser).move_to_element(bars[0]).click().perform()
    first = wait(browser, lambda d: css(d, "#timeline-keys li.live-key a.path"))[0]
    path = first.text
    first.click()
    wait(browser, lambda d: selected_path(d) == path)


def test_deleted_items_show_with_offsets_and_marks_in_the_timeline(browser: Any, copies: Path) -> None:
    hive = copies / "UsrClassDeletedBags.dat"
    shutil.copyfile(corpus_path(DELETED_BAGS), hive)
    viewer = RunningViewer(str(hive))
    try:
        open_page(browser, viewer)
        css(browser, "#tabs [data-view=deleted]")[0].click()
        rows = wait(browser, lambda d: css(d, "#deleted tbody tr"), "no recovered items")
        assert "deleted keys" in css(browser, "#deleted-summary")[0].text
        key = next(r for r in rows if r.text.startswith("key"))
        assert "0x" in key.text
        value = next((r for r in rows if r.text.startswith("value")), key)
        value.click()
        box = wait(browser, lambda d: [b for b in css(d, "#deleted-hex") if b.is_displayed()])[0]
        assert "at file offset 0x" in box.text and "its cell" in box.text
        assert " 76 6b " in css(browser, "#deleted-record")[0].text  # the cell holds a vk record
        shot(browser, "deleted")
        css(browser, "#tabs [data-view=timeline]")[0].click()
        wait(browser, lambda d: css(d, "#timeline-chart rect.bar"))
        marks = css(browser, "#timeline-chart circle.recovered-mark")
        assert marks, "recovered keys are not marked in the timeline"
        bar = marks[0].find_element("xpath", "..").find_element("css selector", "rect.bar")
        bar.click()
        recovered = wait(browser, lambda d: css(d, "#timeline-keys li.recovered-key"))
        recovered[0].find_element("css selector", "a.path").click()
        wait(browser, lambda d: css(d, "#deleted tbody tr.chosen") and css(d, "#view-deleted")[0].is_displayed())
        shot(browser, "timeline-recovered")
    finally:
        viewer.stop()


def test_the_diff_with_compare(browser: Any, copies: Path) -> None:
    before, after = before_and_after(corpus_path(SMALLER_SYSTEM), copies)
    viewer = RunningViewer(str(after), "--compare", str(before))
    try:
        open_page(browser, viewer)
        tab = css(browser, "#tabs [data-view=diff]")[0]
        assert tab.is_displayed()
        tab.click()
        wait(browser, lambda d: css(d, "#diff .change"), "no changes shown")
        top = ADDED.split("\\")[0]
        added = css(browser, f"#diff .change-added[data-path='{top}']")
        deleted = css(browser, f"#diff .change-deleted[data-path='{DELETED}']")
        changed = css(browser, "#diff .change-changed[data-path='Select']")
        assert added and deleted and changed
        row = changed[0].find_element("css selector", "tr.value-changed")
        old, new = row.find_element("css selector", "td.old").text, row.find_element("css selector", "td.new").text
        assert row.text.startswith("LastKnownGood") and new == "REG_DWORD 7 (0x7)" and old != new
        assert "2 keys" in added[0].text and "Gone" in deleted[0].text
        shot(browser, "diff-side-by-side")
        from selenium.webdriver.support.ui import Select

        Select(css(browser, "#diff-layout")[0]).select_by_value("unified")
        wait(browser, lambda d: css(d, "#diff tr.line-deleted") and css(d, "#diff tr.line-added"))
        shot(browser, "diff-unified")
        added[0] = css(browser, f"#diff .change-added[data-path='{top}']")[0]
        added[0].find_element("css selector", "a.path").click()
        wait(browser, lambda d: selected_path(d) == top)
        assert "mark-added" in (css(browser, f"li[data-path='{top}'] > .tree-row")[0].get_attribute("class") or "")
        shot(browser, "diff-marked-tree")
    finally:
        viewer.stop()


def test_a_dirty_hive_toggles_between_stored_and_replayed(browser: Any, copies: Path) -> None:
    source = corpus_path(DIRTY)
    folder = copies / "dirty"
    folder.mkdir()
    for sibling in source.parent.iterdir():
        if sibling.name.startswith(source.name):
            shutil.copyfile(sibling, folder / sibling.name)
    viewer = RunningViewer(str(folder / source.name))
    try:
        open_page(browser, viewer)
        toggle = css(browser, "#replay-toggle")[0]
        assert toggle.is_displayed() and not toggle.is_selected()
        assert tree_names(browser) == ["Key1", "Key2"]
        toggle.click()
        wait(browser, lambda d: tree_names(d) == ["Key3"], "the replayed hive did not show")
        shot(browser, "replayed")
        css(browser, "#replay-toggle")[0].click()
        wait(browser, lambda d: tree_names(d) == ["Key1", "Key2"])
    finally:
        viewer.stop()
