"""Drive the evaluation report and the prompt grid in headless Chromium; print one JSON line.

``python _drive_grid.py URL TOKEN NOTEBOOK SHOTS_DIR``, run as its own process
by ``test_grid_browser.py`` (see ``_drive_panels.py`` for why).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from _drive_panels import CHROMIUM_ARGS, menu, open_notebook
from playwright.sync_api import sync_playwright


def main(url: str, token: str, notebook: str, shots: Path) -> dict[str, Any]:
    seen: dict[str, Any] = {"console_errors": []}
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = open_notebook(browser, url, token, notebook, seen["console_errors"])
        menu(page, "Run", "Run All Cells")
        page.wait_for_function("document.querySelectorAll('.jp-nbtrack-Live').length >= 2")

        report = page.locator(".jp-nbtrack-Live").first
        report.get_by_text("page 1 of 8").wait_for()
        seen["report_svgs"] = report.locator("svg").count()
        report.get_by_role("button", name="next").click()
        report.get_by_text("page 2 of 8").wait_for()
        seen["report_page"] = 2

        grid = page.get_by_role("table", name="Prompt comparison")
        grid.wait_for()
        seen["grid_rows"] = grid.locator("tbody tr").count()
        seen["prefer_buttons"] = grid.get_by_role("button", name="prefer").count()
        grid.get_by_role("button", name="prefer").nth(1).click()
        grid.get_by_role("button", name="preferred").wait_for()
        seen["preferred"] = grid.get_by_role("button", name="preferred").count()
        grid.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "06-prompt-grid.png"))
        browser.close()
    return seen


if __name__ == "__main__":
    result = main(sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4]))
    print(json.dumps(result), flush=True)
