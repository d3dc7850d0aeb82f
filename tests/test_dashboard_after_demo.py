"""Every page of the dashboard after `claimwatch demo`, in Debian's headless Chromium, as a person
would check it: each page says the same scheduler state and the same post count as every other
(while the demo's scheduler beats, once a second), and no page draws an empty chart where it has
data. Screenshots are kept under tests/artifacts/dashboard/ (`after-demo-*.png`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dashboard_story import CLAIM
from playwright.sync_api import Page
from test_dashboard_browser import browser, keep, open_page, serving, settle, shots

from claimwatch.demo.run import DemoOptions, DemoSummary, run_demo
from warehouse import Warehouse

__all__ = ["browser", "shots"]  # the fixtures, shared with the other browser test
CONFIG = Path(__file__).resolve().parents[1] / "config" / "claimwatch.toml"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian's chromium"),
]
# (url path, charts the page draws from the demo's data)
PAGES = [
    ("", 2),
    (f"claim?claim={CLAIM}", 1),
    (f"posts?claim={CLAIM}", 0),
    (f"paths?claim={CLAIM}", 1),
    ("sources", 1),
    ("sql", 0),
]
# Per chart of the page: how many marks it drew with a size (lines, points, bars, areas).
DRAWN_MARKS_JS = """() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')].map(
    c => [...c.querySelectorAll('g.mark-line path, g.mark-symbol path, g.mark-rect path')]
        .filter(m => { const b = m.getBBox(); return b.width > 0.5 || b.height > 0.5; }).length)"""


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    """A whole demo run, to its end, in a warehouse of its own."""
    db = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    # the clock waits for the pipeline: a slow machine takes longer, never another story
    options = DemoOptions(
        db=db, config=CONFIG, dashboard=False, exit_when_done=True, timeout_s=1200
    )
    summary = run_demo(options, say=lambda _: None)
    assert summary.posts, "the demo stored nothing"
    return summary


@pytest.fixture(scope="module")
def demo(played: DemoSummary) -> Warehouse:
    return Warehouse(played.db, lock_timeout=10, read_timeout=30)


@pytest.fixture(scope="module")
def beating(demo: Warehouse) -> Iterator[None]:
    """The demo's scheduler alive, as while the demo plays: a heartbeat each second."""
    done = threading.Event()

    def beat() -> None:
        while not done.wait(1.0):
            with demo.writing() as con:
                con.execute(
                    "UPDATE store.heartbeats SET beat_at = ?, stopped_at = NULL"
                    " WHERE mode = 'demo'",
                    [datetime.now(UTC)],
                )

    thread = threading.Thread(target=beat, name="demo-heartbeat", daemon=True)
    thread.start()
    yield
    done.set()
    thread.join()


@pytest.fixture(scope="module")
def served(played: DemoSummary, demo: Warehouse, beating: None) -> Iterator[str]:
    """The dashboard on the demo's warehouse and config (its heartbeat: one second)."""
    yield from serving(demo, demo.path.parent, config=played.config, beat_first=False)


def sidebar_state(page: Page) -> tuple[str, int]:
    """What the sidebar says of the scheduler, and how many posts it says the warehouse holds."""
    text = page.inner_text('[data-testid="stSidebar"]')
    posts = re.search(r"([\d,]+) posts\nlatest collected", text)
    assert posts is not None, text
    state = "running (demo)" if "Scheduler running (demo)" in text else "not running"
    return state, int(posts.group(1).replace(",", ""))


def test_every_page_tells_the_same_state_and_draws_its_data(
    demo: Warehouse, served: str, browser: object, shots: Path
) -> None:
    with demo.reading() as con:
        stored = con.execute("SELECT count(*) FROM posts").fetchone()
    assert stored is not None
    seen: dict[str, tuple[str, int]] = {}
    for path, charts in PAGES:
        page, dialogs = open_page(browser, f"{served}/{path}")
        page.wait_for_selector("text=latest collected", timeout=60_000)
        settle(page, charts)
        name = path.split("?")[0] or "overview"
        keep(page, shots, f"after-demo-{name}")
        seen[name] = sidebar_state(page)
        drawn = page.evaluate(DRAWN_MARKS_JS)
        assert len(drawn) >= charts and all(n > 0 for n in drawn), (name, drawn)
        if name == "claim":  # the posts behind a point: a bucket with posts, by default
            listed = re.search(r"([\d,]+) posts? mentions? variant", page.inner_text("body"))
            assert listed is not None and int(listed.group(1).replace(",", "")) > 0
        assert not dialogs
        page.context.close()
    assert set(seen.values()) == {("running (demo)", stored[0])}, seen
