"""Drive the panels notebook in headless Chromium; print one JSON line of what was seen.

``python _drive_panels.py URL TOKEN NOTEBOOK SHOTS_DIR``

Run as its own process by ``test_panels_browser.py``: Playwright's sync API
runs an event loop of its own, which must not meet pytest's (see
JUPYTER_NOTES.md). Every wait is bounded; a failed wait raises, and the
traceback reaches the test through stderr. Elements are found by role and
label where the panels give one.
"""

from __future__ import annotations

import json
import re
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 60_000


def wait_for_kernel(url: str, token: str, deadline_s: float = 60) -> None:
    """Poll /api/kernels until a kernel is idle with a connection (the UI's idle is too early)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(f"{url}/api/kernels?token={token}", timeout=5) as response:
                kernels = json.load(response)
        except urllib.error.HTTPError:
            # jupyter_server answers 500 while a kernel is still starting
            # (its last_activity is not set yet): ask again.
            time.sleep(0.3)
            continue
        if any(k["execution_state"] == "idle" and k["connections"] >= 1 for k in kernels):
            return
        time.sleep(0.3)
    raise TimeoutError("no idle, connected kernel")


def open_notebook(browser: Browser, url: str, token: str, notebook: str, errors: list[str]) -> Page:
    """A page showing ``notebook`` in JupyterLab, kernel ready; console errors go to ``errors``."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(WAIT_MS)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.goto(f"{url}/lab/tree/{notebook}?token={token}")
    page.locator("#jupyterlab-splash").wait_for(state="detached")
    page.locator("#jp-main-dock-panel").wait_for()
    page.locator(".jp-Notebook").wait_for()
    wait_for_kernel(url, token)
    return page


def menu(page: Page, top: str, item: str) -> None:
    """Click ``top`` in the menu bar, then ``item`` in the menu it opens."""
    page.get_by_role("menuitem", name=top, exact=True).click()
    page.get_by_role("menuitem", name=item, exact=True).first.click()


def switch_to_dark_theme(page: Page, text: str) -> None:
    """Pick JupyterLab Dark in Settings → Theme; wait until ``text`` (a CSS selector) is light.

    Lumino gives submenu entries no role: they are found by their label. The
    theme flag flips before the dark stylesheet applies, hence the wait on a colour.
    """
    page.get_by_role("menuitem", name="Settings", exact=True).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Theme$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^JupyterLab Dark$")).click()
    page.wait_for_function("document.body.dataset.jpThemeLight === 'false'")
    page.wait_for_function(
        """(selector) => {
            const el = document.querySelector(selector);
            const [r, g, b] = getComputedStyle(el).color.match(/\\d+/g).map(Number);
            return r + g + b > 384;
        }""",
        arg=text,
    )


def column_values(page: Page, table: Any, key: str) -> list[str]:
    headers = table.locator("thead th")
    names = [h.get_attribute("data-key") or "" for h in headers.all()]
    index = names.index(key)
    return [c.inner_text() for c in table.locator(f"tbody tr td:nth-child({index + 1})").all()]


#: Text whose contrast is measured on both themes: a selected row, a plain row, a status
#: badge, the filter error, a differing param, the best metric.
CONTRAST_TARGETS = (
    "table[aria-label=runs] tbody tr.jp-nbtrack-selected td:nth-child(3)",
    "table[aria-label=runs] tbody tr:not(.jp-nbtrack-selected) td:nth-child(3)",
    ".jp-nbtrack-status",
    ".jp-nbtrack-error",
    "td.jp-nbtrack-diff",
    "td.jp-nbtrack-best",
)
CONTRAST_JS = """(selector) => {
    const el = document.querySelector(selector);
    if (!el) return null;
    const rgba = (s) => {
      const v = (s.match(/[\\d.]+/g) || []).map(Number);
      return [v[0] || 0, v[1] || 0, v[2] || 0, v.length > 3 ? v[3] : 1];
    };
    // Composite the translucent backgrounds from the element up to the first opaque one.
    const layers = [];
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const c = rgba(getComputedStyle(node).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    let bg = [255, 255, 255];
    for (const [r, g, b, a] of layers.reverse()) {
      bg = [r * a + bg[0] * (1 - a), g * a + bg[1] * (1 - a), b * a + bg[2] * (1 - a)];
    }
    const fg = rgba(getComputedStyle(el).color);
    const lum = ([r, g, b]) => {
      const f = (c) => {
        c /= 255;
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const [hi, lo] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
}"""


def contrasts(page: Page) -> dict[str, float | None]:
    """WCAG contrast ratio of each CONTRAST_TARGETS element's text on what is behind it."""
    return {target: page.evaluate(CONTRAST_JS, target) for target in CONTRAST_TARGETS}


_LIVE_ROW = """
    const table = document.querySelectorAll('.jp-nbtrack-Live')[4]
        .querySelector('table[aria-label=runs]');
    const keys = [...table.querySelectorAll('thead th')].map((th) => th.dataset.key || '');
    const row = table.querySelector('tbody tr');
    const cell = (key) => row.children[keys.indexOf(key)].textContent.trim();
"""
#: The live run's rmse once it has moved, while a cell is still executing; else false.
LIVE_WHILE_BUSY_JS = f"""() => {{
    {_LIVE_ROW}
    const busy = [...document.querySelectorAll('.jp-InputArea-prompt')]
        .some((p) => p.textContent.includes('[*]'));
    const rmse = parseFloat(cell('metrics.rmse'));
    return busy && rmse < 0.9 ? rmse : false;
}}"""
#: The live run's status and rmse once the table shows it FINISHED; else false.
LIVE_FINISHED_JS = f"""() => {{
    {_LIVE_ROW}
    const status = cell('status');
    return status === 'FINISHED' ? {{ status, rmse: parseFloat(cell('metrics.rmse')) }} : false;
}}"""


def main(url: str, token: str, notebook: str, shots: Path) -> dict[str, Any]:
    seen: dict[str, Any] = {"console_errors": []}
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = open_notebook(browser, url, token, notebook, seen["console_errors"])

        menu(page, "Run", "Run All Cells")
        panels = page.locator(".jp-nbtrack-Live")
        page.wait_for_function("document.querySelectorAll('.jp-nbtrack-Live').length >= 5")
        seen["panels"] = panels.count()
        # The fifth panel's run is RUNNING while the last cell ([*]) logs to it.
        seen["live_rmse_while_busy"] = page.wait_for_function(LIVE_WHILE_BUSY_JS).json_value()
        seen["live_final"] = page.wait_for_function(LIVE_FINISHED_JS).json_value()
        wait_for_kernel(url, token)

        runs = page.get_by_role("table", name="runs").first
        runs.locator("tbody tr").first.wait_for()
        seen["rows_visible"] = sum(r.is_visible() for r in runs.locator("tbody tr").all())
        page.screenshot(path=str(shots / "01-panels-light.png"), full_page=False)

        header = runs.locator('th[data-key="metrics.rmse"]')
        header.click()
        page.wait_for_selector('th[data-key="metrics.rmse"][aria-sort="ascending"]')
        seen["rmse_after_click"] = column_values(page, runs, "metrics.rmse")
        header.click()
        page.wait_for_selector('th[data-key="metrics.rmse"][aria-sort="descending"]')
        seen["rmse_after_second_click"] = column_values(page, runs, "metrics.rmse")

        box = page.get_by_role("searchbox", name="Filter runs").first
        box.fill("params.model = 'rf'")
        box.press("Enter")
        page.wait_for_function(
            "document.querySelector('table[aria-label=runs] tbody').rows.length === 6"
        )
        seen["rows_after_filter"] = runs.locator("tbody tr").count()
        seen["models_after_filter"] = sorted(set(column_values(page, runs, "params.model")))
        page.screenshot(path=str(shots / "02-filtered.png"))

        box.fill("metrics.rmse <")
        box.press("Enter")
        alert = page.get_by_role("alert").first
        alert.wait_for()
        seen["filter_error"] = alert.inner_text()

        runs.get_by_role("checkbox").nth(1).check()
        runs.get_by_role("checkbox").nth(2).check()
        page.get_by_role("button", name="Compare (2)").click()
        page.get_by_role("heading", name="Compare 2 runs").first.wait_for()
        seen["compare_headings"] = page.get_by_role("heading", name="Compare 2 runs").count()

        page.wait_for_function(
            "document.querySelectorAll('.jp-nbtrack-Live .jp-nbtrack-Chart svg').length >= 3"
        )
        seen["chart_svgs"] = page.locator(".jp-nbtrack-Live .jp-nbtrack-Chart svg").count()
        chart_box = page.locator(".jp-nbtrack-Live .jp-nbtrack-Chart svg").first.bounding_box()
        seen["chart_size"] = [chart_box["width"], chart_box["height"]] if chart_box else None
        log_button = page.get_by_role("button", name="log scale: off")
        log_button.scroll_into_view_if_needed()
        log_button.click()
        page.get_by_role("button", name="log scale: on").wait_for()
        seen["log_toggled"] = True
        seen["run_heading"] = page.get_by_role("heading", name="Run run-00").count()
        seen["contrast_light"] = contrasts(page)
        page.get_by_role("heading", name="Metrics · loss").scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "03-charts-light.png"))

        switch_to_dark_theme(page, "table[aria-label=runs] tbody td")
        seen["contrast_dark"] = contrasts(page)
        runs.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "04-panels-dark.png"))
        page.get_by_role("heading", name="Metrics · loss").scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "05-charts-dark.png"))
        browser.close()
    return seen


if __name__ == "__main__":
    result = main(sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4]))
    print(json.dumps(result), flush=True)
