"""The HTML report opens in headless Chromium; its screenshot is not blank and shows the charts.

Needs /usr/bin/chromium (Debian: `apt-get install -y chromium`) and Pillow.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from simplymeet.report import write_html_report
from simplymeet.report.charts import BAND, HEAT, HOST, INVITEE, LINE
from tests.synced_template import demo_copy
from tests.system_packages import wait_for_system_packages

Image = pytest.importorskip("PIL.Image", reason="Pillow is needed to read the screenshot")


def rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def pixels_near(counts: dict[tuple[int, int, int], int], colour: str, tolerance: int = 3) -> int:
    target = rgb(colour)
    return sum(
        n
        for c, n in counts.items()
        if all(abs(a - b) <= tolerance for a, b in zip(c, target, strict=True))
    )


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's Chromium, looked for when the first test runs (`.ci/run` may still be
    installing it); the tests are skipped without one."""
    wait_for_system_packages()
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    return found


@pytest.fixture(scope="module")
def screenshot(tmp_path_factory, chromium: str) -> tuple[Path, subprocess.CompletedProcess[str]]:
    folder = tmp_path_factory.mktemp("screenshot")
    demo = demo_copy(tmp_path_factory, folder / "demo.duckdb")
    html = write_html_report(demo, folder / "report.html")
    png = folder / "report.png"
    run = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={folder / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            f"--screenshot={png}",
            "--window-size=1280,2000",
            html.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return png, run


def colour_counts(png: Path) -> dict[tuple[int, int, int], int]:
    with Image.open(png) as image:
        rgb_image = image.convert("RGB")
        return {colour: count for count, colour in rgb_image.getcolors(maxcolors=1 << 24)}


def test_report_opens_in_headless_chromium_without_errors(screenshot):
    png, run = screenshot

    assert run.returncode == 0, run.stderr[-2000:]
    assert png.exists()
    assert "Uncaught" not in run.stderr
    assert "CONSOLE" not in run.stderr  # no script or resource error reported by the page


def test_screenshot_is_not_blank(screenshot):
    png, _ = screenshot
    counts = colour_counts(png)

    with Image.open(png) as image:
        assert image.size == (1280, 2000)
    assert len(counts) > 200  # text, charts and cards, not a white page
    assert max(counts.values()) < 0.8 * sum(counts.values())


def test_screenshot_shows_the_trend_the_lead_time_bars_and_the_heatmap(screenshot):
    png, _ = screenshot
    counts = colour_counts(png)

    assert pixels_near(counts, BAND) > 5_000, "no-show confidence band"
    assert pixels_near(counts, LINE) > 300, "no-show trend line"
    assert pixels_near(counts, INVITEE) > 5_000, "cancellations by invitee"
    assert pixels_near(counts, HOST) > 1_000, "cancellations by host"
    heat_cells = sum(pixels_near(counts, colour) for colour in HEAT[1:])
    assert heat_cells > 5_000, "utilization heatmap cells"
