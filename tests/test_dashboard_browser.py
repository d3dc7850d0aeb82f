"""The dashboard served for real on localhost and opened in Debian's headless Chromium: every page
screenshotted (kept as test artefacts) and checked for its chart and its key numbers.

Needs /usr/bin/chromium (`apt-get install -y chromium`; the README's test command installs it when
missing). The screenshots are written under the test's tmp_path and copied to tests/artifacts/.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from dashboard_story import CLAIM, CONFIG, at, beat, build, write_posts
from digest_story import story_config
from playwright.sync_api import Page, sync_playwright
from test_correction_marks import CROWD, add_crowd

from dashboard.common import POST_ROW_PX
from dashboard.launch import streamlit_command, wait_until_serving
from digest.publish import revise_digest, write_digest
from warehouse import Warehouse

CHROMIUM = Path("/usr/bin/chromium")
DIGESTED = date(2026, 1, 31)
ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "dashboard"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium"),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a free local port over the story's warehouse; yields its base URL."""
    folder = tmp_path_factory.mktemp("served")
    warehouse = build(folder / "claimwatch.duckdb")
    yield from serving(warehouse, folder)


@pytest.fixture(scope="module")
def crowded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The same over the story with 200 community corrections and two of the U.S. Embassy's
    in one hour (tests/test_correction_marks.py)."""
    folder = tmp_path_factory.mktemp("crowded")
    warehouse = build(folder / "claimwatch.duckdb")
    add_crowd(warehouse)
    yield from serving(warehouse, folder)


@pytest.fixture(scope="module")
def revised(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The story with the digest of 2026-01-31 written, then a post of that day stored late,
    and the digest revised (docs/digest.md, "Revisions")."""
    folder = tmp_path_factory.mktemp("revised")
    warehouse = build(folder / "claimwatch.duckdb")
    config = story_config(folder)
    write_digest(config, warehouse, DIGESTED, now=at(20 * 60))
    write_posts(warehouse, [("x", "late", "late1", 240, "4", "asserts", "4 ICE stations", {})])
    assert revise_digest(config, warehouse, DIGESTED, now=at(22 * 60)) is not None
    yield from serving(warehouse, folder)


def serving(
    warehouse: Warehouse, folder: Path, config: Path = CONFIG, beat_first: bool = True
) -> Iterator[str]:
    """The app served on a free port over `warehouse` (a demo scheduler beating first, unless
    not `beat_first`); yields its base URL."""
    if beat_first:
        beat(warehouse)
    port = free_port()
    env = {**os.environ, "CLAIMWATCH_DB": str(warehouse.path), "CLAIMWATCH_CONFIG": str(config)}
    log = (folder / "streamlit.log").open("wb")
    server = subprocess.Popen(
        streamlit_command(warehouse.path, config, "127.0.0.1", port),
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        if not wait_until_serving("127.0.0.1", port, 60):
            pytest.fail(f"the dashboard did not start: {(folder / 'streamlit.log').read_text()}")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("screenshots")
    print(f"\nscreenshots: {folder} (and {ARTIFACTS})")
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_page(browser: object, url: str, *, dark: bool = False) -> tuple[Page, list[str]]:
    """The page at `url`, loaded, with the JavaScript dialogs it opened (there must be none)."""
    context = browser.new_context(  # type: ignore[attr-defined]
        viewport={"width": 1500, "height": 1100}, color_scheme="dark" if dark else "light"
    )
    page: Page = context.new_page()
    dialogs: list[str] = []

    def on_dialog(dialog: object) -> None:
        dialogs.append(dialog.message)  # type: ignore[attr-defined]
        dialog.dismiss()  # type: ignore[attr-defined]

    page.on("dialog", on_dialog)
    page.goto(url)
    page.wait_for_selector('[data-testid="stSidebar"]', timeout=60_000)
    return page, dialogs


def settle(page: Page, charts: int) -> None:
    """Wait until the script has run and `charts` charts are drawn."""
    page.wait_for_function(
        'n => document.querySelectorAll(\'[data-testid="stVegaLiteChart"] canvas,'
        ' [data-testid="stVegaLiteChart"] svg\').length >= n',
        arg=charts,
        timeout=60_000,
    )
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=60_000)
    page.wait_for_timeout(1500)  # the charts' last frame


def keep(page: Page, shots: Path, name: str) -> Path:
    path = shots / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, ARTIFACTS / path.name)
    assert path.stat().st_size > 20_000, "a blank screenshot"
    return path


def metric(page: Page, label: str) -> str:
    """The value of the first metric with `label`."""
    box = page.locator('[data-testid="stMetric"]', has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


# Each metric value, its text and whether the browser cut it off (text wider than its box).
METRIC_VALUES_JS = """() => [...document.querySelectorAll('[data-testid="stMetricValue"]')].map(
    v => [v.innerText, [v, ...v.querySelectorAll('*')].some(e => e.scrollWidth > e.clientWidth)])"""
# Per chart of the page: how many marks each kind of mark drew, and the texts it wrote.
CHART_MARKS_JS = """() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')].map(
    c => ({
        lines: c.querySelectorAll('g.mark-line path').length,
        points: c.querySelectorAll('g.mark-symbol path').length,
        texts: [...c.querySelectorAll('g.mark-text text')].map(t => t.textContent),
    }))"""


def test_overview(served: str, browser: object, shots: Path) -> None:
    page, dialogs = open_page(browser, served)
    page.set_viewport_size({"width": 1400, "height": 1000})  # as the issue looked at it
    page.wait_for_selector("text=Posts, last 24 h", timeout=60_000)
    page.wait_for_selector("text=First authority correction", timeout=60_000)
    settle(page, 2)
    keep(page, shots, "1-overview")
    assert metric(page, "Posts, last 24 h") == "11"
    assert metric(page, "Leading variant") == "4"
    assert metric(page, "Latest correction") == "Jan 31"
    body = page.inner_text("body")
    assert "7 posts · verified value: 5" in body  # beside the leading variant
    assert "08:30 EST by afp (factcheck)" in body
    # the embassy's correction, named as the config names it, with who and when
    assert "U.S. Embassy Ottawa (@usembassyottawa on x)\n2026-01-30 12:00 EST" in body
    # no metric is cut off: none is wider than its box, none ends in an ellipsis
    values = page.evaluate(METRIC_VALUES_JS)
    assert len(values) == 10  # five per claim
    assert [text for text, cut in values if cut or text.endswith("…")] == []
    # each claim's race is drawn with marks: its curves, their points, the correction's label
    offices, armed = page.evaluate(CHART_MARKS_JS)
    assert offices["lines"] == 3  # "4", "5" and the corrections
    assert offices["points"] > 5
    assert {"afp (factcheck)", "5 (verified)", "corrections"} <= set(offices["texts"])
    assert armed["lines"] == 2  # the mentions and the corrections
    assert "U.S. Embassy Ottawa (authority)" in armed["texts"]
    for shot, chart in (("1-overview-race", 0), ("1-overview-embassy", 1)):
        page.locator('[data-testid="stVegaLiteChart"]').nth(chart).scroll_into_view_if_needed()
        keep(page, shots, shot)
    assert "Scheduler running (demo)" in page.inner_text('[data-testid="stSidebar"]')
    assert "Demo data: 1 of the 16 posts" in body
    assert not dialogs


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_claim(served: str, browser: object, shots: Path, dark: bool) -> None:
    page, dialogs = open_page(browser, f"{served}/claim?claim={CLAIM}", dark=dark)
    page.wait_for_selector("text=Verified value: 5", timeout=60_000)
    settle(page, 1)
    keep(page, shots, f"2-claim-{'dark' if dark else 'light'}")
    body = page.inner_text("body")
    assert "Posts behind a point" in body
    assert "buckets are America/Toronto days" in body
    assert not dialogs


def test_posts_with_the_hostile_post(served: str, browser: object, shots: Path) -> None:
    page, dialogs = open_page(browser, f"{served}/posts?claim={CLAIM}&variant=4")
    page.wait_for_selector("text=7 posts", timeout=60_000)
    page.wait_for_selector('[data-testid="stDataFrame"]', timeout=60_000)
    page.wait_for_timeout(1500)
    keep(page, shots, "3-posts")
    assert page.locator('[data-testid="stDownloadButton"]').count() == 2
    # the post's <script> never ran and its Markdown link is no link
    assert not dialogs
    assert page.locator("a[href^='javascript']").count() == 0


def test_a_short_post_table_is_as_tall_as_its_rows(
    served: str, browser: object, shots: Path
) -> None:
    """Two posts: two rows (tall enough for their text, wrapped) under the header, no blank
    rows below them."""
    page, dialogs = open_page(browser, f"{served}/posts?claim={CLAIM}&variant=%28none%29")
    page.wait_for_selector("text=2 posts", timeout=60_000)
    page.wait_for_selector('[data-testid="stDataFrame"]', timeout=60_000)
    page.wait_for_timeout(1500)
    keep(page, shots, "3-posts-two")
    table = page.locator('[data-testid="stDataFrame"]').first.bounding_box()
    assert table is not None and table["height"] <= 3 * POST_ROW_PX + 10
    assert not dialogs


def test_paths(served: str, browser: object, shots: Path) -> None:
    page, dialogs = open_page(browser, f"{served}/paths?claim={CLAIM}")
    page.wait_for_selector("text=Top spreaders by reach", timeout=60_000)
    settle(page, 1)
    keep(page, shots, "4-paths")
    assert metric(page, "Largest tree, posts") == "3"
    assert metric(page, "Platforms") == "4"
    assert not dialogs


def test_sources(served: str, browser: object, shots: Path) -> None:
    page, dialogs = open_page(browser, f"{served}/sources")
    page.wait_for_selector("text=Scheduler running: demo mode", timeout=60_000)
    settle(page, 1)
    keep(page, shots, "5-sources")
    body = page.inner_text("body")
    assert "1 job(s) backing off after failures:" in body
    assert "collect:reddit:ice-canada" in body
    assert "host testhost, pid 4242" in body
    assert "reddit (failed)" in body
    assert not dialogs


def test_sql(served: str, browser: object, shots: Path) -> None:
    page, dialogs = open_page(browser, f"{served}/sql")
    page.wait_for_selector("text=Row limit", timeout=60_000)
    page.get_by_role("button", name="Run").click()
    page.wait_for_selector("text=rows", timeout=60_000)
    page.wait_for_timeout(1000)
    keep(page, shots, "6-sql")
    assert "4 rows" in page.inner_text(
        "body"
    )  # variant_summary: 4, 5, none; and the NULL of the other
    # the result is under the box, on screen, not below the list of views
    shown = page.get_by_text("4 rows", exact=True).bounding_box()
    viewport = page.viewport_size
    assert shown is not None and viewport is not None and shown["y"] < viewport["height"]
    assert not dialogs


def test_claim_click_through(served: str, browser: object, shots: Path) -> None:
    """Click the point of variant 4 on Jan 31 (6 posts, the highest point, so found first from
    the top): the posts under the chart become that day's and variant's."""
    page, dialogs = open_page(browser, f"{served}/claim?claim={CLAIM}")
    page.wait_for_selector("text=Verified value: 5", timeout=60_000)
    settle(page, 1)
    assert "1 post mentions variant (none)" in page.inner_text("body")  # the last bucket first
    chart = page.locator('[data-testid="stVegaLiteChart"]').first.bounding_box()
    assert chart is not None
    point = None
    for y in range(int(chart["y"]) + 5, int(chart["y"] + chart["height"] / 2), 4):
        for x in range(int(chart["x"]) + 50, int(chart["x"] + chart["width"]) - 100, 4):
            page.mouse.move(x, y)
            tip = page.query_selector("#vg-tooltip-element.visible")
            if tip and "Variant" in tip.inner_text():
                point = (x, y, tip.inner_text())
                break
        if point:
            break
    assert point is not None, "no point of the chart answered the mouse"
    assert "2026-01-31 00:00 EST" in point[2]
    page.mouse.click(point[0], point[1])
    page.wait_for_selector(
        "text=6 posts mention variant 4 in the day starting 2026-01-31 00:00 EST", timeout=30_000
    )
    keep(page, shots, "2-claim-clicked")
    assert not dialogs


def tooltips_over(page: Page, top: float, bottom: float, words: tuple[str, ...]) -> set[str]:
    """The distinct tooltips saying any of `words` under the mouse, moved across the first
    chart's width between `top` and `bottom` pixels below its top."""
    chart = page.locator('[data-testid="stVegaLiteChart"]').first.bounding_box()
    assert chart is not None
    found: set[str] = set()
    for y in range(int(chart["y"] + top), int(chart["y"] + bottom), 5):
        for x in range(int(chart["x"]) + 40, int(chart["x"] + chart["width"]), 5):
            page.mouse.move(x, y)
            tip = page.query_selector("#vg-tooltip-element.visible")
            text = tip.inner_text() if tip else ""
            if any(word in text for word in words):
                found.add(" ".join(text.split()))
    return found


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_claim_corrections_are_a_few_labelled_marks(
    crowded: str, browser: object, shots: Path, dark: bool
) -> None:
    """204 corrections, 202 of them in one hour (the embassy's two among them), by day: above
    the chart, a mark for the embassy and one for afp's fact-check, and bars of the community's
    counts."""
    page, dialogs = open_page(browser, f"{crowded}/claim?claim={CLAIM}", dark=dark)
    page.wait_for_selector("text=Verified value: 5", timeout=60_000)
    settle(page, 1)
    keep(page, shots, f"2-claim-corrections-{'dark' if dark else 'light'}")
    assert "the red bars count the community's" in page.inner_text("body")
    if dark:  # the same chart: looked at in the screenshot
        assert not dialogs
        return
    # the strip above the series (about 100 pixels of a 420-pixel plot)
    found = tooltips_over(page, 0, 110, ("Correction by", "Community corrections"))
    flags = sorted(t for t in found if "Correction by" in t)
    assert len(flags) == 2, found  # a handful at most: one per who and day
    assert "Correction by U.S. Embassy Ottawa (authority)" in flags[0]
    assert "Posts 2" in flags[0]
    assert "Correction by afp (factcheck)" in flags[1]
    crowd = [t for t in found if f"Community corrections {CROWD}" in t]
    assert len(crowd) == 1 and "fixer0, fixer1, fixer2 and 197 more" in crowd[0]
    assert not dialogs


def test_overview_shows_the_latest_digest_with_its_history(
    revised: str, browser: object, shots: Path
) -> None:
    page, dialogs = open_page(browser, revised)
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.wait_for_selector("text=Revised 1 time(s)", timeout=60_000)
    settle(page, 2)
    notice = page.locator('[data-testid="stAlert"]', has_text="Revised 1 time(s)")
    notice.scroll_into_view_if_needed()
    keep(page, shots, "1-overview-digest-revised")
    offices = 'How many ICE/HSI offices ("stations") there are in Canada'
    assert f"{offices}, variant 4: posts: 6 → 7" in notice.inner_text()
    body = page.inner_text("body")
    # the latest is shown: the revision, which says what changed
    assert "claimwatch digest: Saturday 31 January 2026 (America/Toronto), revision 2" in body
    assert "Revision 2 of this digest: posts of the day were stored after the version" in body
    # and the first version, as written, is one choice away
    page.locator('[data-testid="stSelectbox"]', has_text="Version").click()
    page.get_by_role("option", name="first version").click()
    page.wait_for_selector("text=(America/Toronto), revision 2", state="detached", timeout=60_000)
    keep(page, shots, "1-overview-digest-first-version")
    body = page.inner_text("body")
    assert "claimwatch digest: Saturday 31 January 2026 (America/Toronto)" in body
    assert "Revision 2 of this digest" not in body
    assert not dialogs
