"""Drive nbtrack's JupyterLab sidebar in headless Chromium; print one JSON line of what was seen.

``python _drive_sidebar.py URL TOKEN STORE SHOTS_DIR``

Its own process, like ``_drive_panels.py`` (Playwright's event loop must not
meet pytest's). It opens the sidebar, sorts by a header click, filters, shows
a filter error, watches the table refresh while a run is RUNNING (it ends that
run and starts another through ``nbtrack.Client`` on ``STORE``) and while idle
(a run made through the client, and the ``%%track`` run of a cell run in the
lab, each timed from its creation), opens a run's detail and its artifacts in
JupyterLab's viewers, inserts a ``%%track`` cell from the command palette, and
serves a registered model from the Models tab (scored over real HTTP, then
stopped from the notification). Elements are found by role and label.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from _drive_panels import (
    CHROMIUM_ARGS,
    CONTRAST_JS,
    menu,
    switch_to_dark_theme,
    wait_for_kernel,
)
from playwright.sync_api import Locator, Page, sync_playwright

WAIT_MS = 30_000
#: Text whose contrast is measured on both themes: a run link, a status badge, a
#: differing param in the comparison, a heading, a chart label.
CONTRAST_TARGETS = (
    "table[aria-label='Experiment runs'] td[data-key=name] button",
    "table[aria-label='Experiment runs'] .jp-nbtrack-badge",
    ".jp-nbtrack-kv td.jp-nbtrack-diff",
    ".jp-nbtrack-RunDetail h2",
)


def contrasts(page: Page) -> dict[str, float | None]:
    """WCAG contrast ratio of each target's text on what is behind it."""
    return {target: page.evaluate(CONTRAST_JS, target) for target in CONTRAST_TARGETS}


def palette_command(page: Page, label: str) -> None:
    """Run a command by its label from the command palette."""
    page.keyboard.press("Control+Shift+C")
    # Lumino's palette input has no accessible name: found by its class.
    palette = page.locator(".lm-CommandPalette-input")
    palette.fill(label)
    palette.press("Enter")


def column(table: Locator, key: str) -> list[str]:
    """The texts of one column (``data-key``) of the runs table."""
    return [c.inner_text() for c in table.locator(f'tbody td[data-key="{key}"]').all()]


def wait_rows(page: Page, count: int) -> None:
    """Wait until the runs table has ``count`` rows; on timeout, say what it shows instead."""
    try:
        page.wait_for_function(
            "(n) => document.querySelector('table[aria-label=\"Experiment runs\"] tbody')"
            "?.rows.length === n",
            arg=count,
        )
    except Exception as exc:
        state = page.evaluate(
            "() => ({rows: document.querySelector('table[aria-label=\"Experiment runs\"] tbody')"
            "?.rows.length, status: document.querySelector('.jp-nbtrack-Sidebar-status')"
            "?.textContent, error: document.querySelector('.jp-nbtrack-Sidebar-error')"
            "?.textContent, filter: document.querySelector('input[aria-label=\"Filter runs\"]')"
            "?.value})"
        )
        raise AssertionError(f"expected {count} rows; the sidebar shows {state}") from exc


def score(url: str, rows: list[list[float]]) -> Any:
    """POST a ``dataframe_split`` payload with one column ``x`` to ``url/invocations``."""
    body = json.dumps({"dataframe_split": {"columns": ["x"], "data": rows}}).encode()
    request = urllib.request.Request(
        f"{url}/invocations", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())["predictions"]


def main(url: str, token: str, store: str, shots: Path) -> dict[str, Any]:
    import nbtrack

    seen: dict[str, Any] = {"console_errors": [], "failed_requests": []}
    shots.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    t0 = time.monotonic()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(WAIT_MS)
        # A failed request is also a console error; those are checked by URL instead.
        page.on(
            "console",
            lambda m: (
                seen["console_errors"].append(m.text)
                if m.type == "error" and not m.text.startswith("Failed to load resource")
                else None
            ),
        )
        page.on(
            "response",
            lambda r: (
                seen["failed_requests"].append([r.status, r.url.split("?")[0]])
                if r.status >= 400
                else None
            ),
        )
        page.on("pageerror", lambda e: seen["console_errors"].append(f"pageerror: {e}"))
        page.goto(f"{url}/lab/tree/track.ipynb?token={token}")
        page.locator("#jupyterlab-splash").wait_for(state="detached")
        page.locator("#jp-main-dock-panel").wait_for()
        timings["lab_loaded"] = time.monotonic() - t0

        # The sidebar's tab in the left area carries the panel's caption.
        page.get_by_role("tab", name="nbtrack: experiments and runs").click()
        experiment = page.get_by_role("combobox", name="Experiment")
        experiment.locator("option", has_text="live").wait_for(state="attached")
        seen["experiments"] = sorted(experiment.locator("option").all_inner_texts())
        experiment.select_option(label="wine")
        runs = page.get_by_role("table", name="Experiment runs")
        wait_rows(page, 12)
        seen["rows"] = runs.locator("tbody tr").count()
        seen["headers"] = runs.locator("thead th").all_inner_texts()
        page.screenshot(path=str(shots / "sidebar-01-runs.png"))

        header = runs.locator('th[data-key="metrics.rmse"]')
        header.click()
        page.wait_for_selector('th[data-key="metrics.rmse"][aria-sort="ascending"]')
        page.wait_for_function(
            "() => { const v = [...document.querySelectorAll("
            '\'table[aria-label="Experiment runs"] td[data-key="metrics.rmse"]\')]'
            ".map((td) => parseFloat(td.textContent)); "
            "return v.length === 12 && v.every((x, i) => i === 0 || v[i - 1] <= x); }"
        )
        seen["rmse_ascending"] = column(runs, "metrics.rmse")
        header.click()
        page.wait_for_selector('th[data-key="metrics.rmse"][aria-sort="descending"]')
        page.wait_for_function(
            "() => { const v = [...document.querySelectorAll("
            '\'table[aria-label="Experiment runs"] td[data-key="metrics.rmse"]\')]'
            ".map((td) => parseFloat(td.textContent)); "
            "return v.length === 12 && v.every((x, i) => i === 0 || v[i - 1] >= x); }"
        )
        seen["rmse_descending"] = column(runs, "metrics.rmse")

        box = page.get_by_role("searchbox", name="Filter runs")
        box.fill("params.model = 'rf'")
        box.press("Enter")
        wait_rows(page, 6)
        seen["rows_filtered"] = runs.locator("tbody tr").count()
        seen["models_filtered"] = sorted(set(column(runs, "params.model")))
        page.screenshot(path=str(shots / "sidebar-02-filtered.png"))

        box.fill("metrics.rmse <")
        box.press("Enter")
        alert = page.get_by_role("alert")
        alert.wait_for()
        seen["filter_error"] = alert.inner_text()
        page.screenshot(path=str(shots / "sidebar-03-filter-error.png"))
        box.fill("")
        box.press("Enter")
        wait_rows(page, 12)
        alert.wait_for(state="hidden")

        # Live refresh: a RUNNING run ends and a new one starts behind the page's back.
        experiment.select_option(label="live")
        wait_rows(page, 1)
        seen["live_status_before"] = column(runs, "status")
        client = nbtrack.Client(store)
        live_exp = client.get_experiment_by_name("live").experiment_id
        live_id = client.search_runs([live_exp], "")[0].info.run_id
        client.set_terminated(live_id)
        client.create_run(live_exp, run_name="late")
        started = time.monotonic()
        wait_rows(page, 2)
        page.wait_for_function(
            "() => [...document.querySelectorAll("
            '\'table[aria-label="Experiment runs"] td[data-key="status"]\')]'
            ".some((td) => td.textContent.trim() === 'FINISHED')"
        )
        seen["live_refresh_s"] = time.monotonic() - started
        seen["live_status_after"] = sorted(column(runs, "status"))

        # Idle (nothing RUNNING shown): a run created elsewhere shows within the idle
        # interval (2 s) plus one request. Measured from its creation in the store.
        late_id = next(
            r.info.run_id for r in client.search_runs([live_exp], "") if r.info.status == "RUNNING"
        )
        client.set_terminated(late_id)
        page.wait_for_function(
            "() => [...document.querySelectorAll("
            '\'table[aria-label="Experiment runs"] td[data-key="status"]\')]'
            ".every((td) => td.textContent.trim() === 'FINISHED')"
        )
        # Let the sidebar settle into its idle rhythm before the run appears.
        page.wait_for_timeout(500)
        outside = client.create_run(live_exp, run_name="outside")
        client.set_terminated(outside.info.run_id)
        runs.get_by_role("button", name="outside", exact=True).wait_for()
        seen["idle_appear_s"] = time.time() - outside.info.start_time / 1000

        # "All experiments" takes in an experiment created after it was chosen, and
        # the picker lists it, with no reload.
        experiment.select_option(label="All experiments")
        runs.get_by_role("button", name="outside", exact=True).wait_for()
        page.wait_for_timeout(500)
        newcomer = client.create_run(client.create_experiment("newcomer"), run_name="newcomer-run")
        client.set_terminated(newcomer.info.run_id)
        runs.get_by_role("button", name="newcomer-run", exact=True).wait_for()
        seen["new_experiment_appear_s"] = time.time() - newcomer.info.start_time / 1000
        seen["picker_has_newcomer"] = "newcomer" in experiment.locator("option").all_inner_texts()

        # A run's detail in the main area: params, a chart per metric, artifacts, lineage.
        experiment.select_option(label="wine")
        wait_rows(page, 12)
        runs.get_by_role("button", name="run-00", exact=True).click()
        page.get_by_role("heading", name="Run run-00").wait_for()
        detail = page.locator(".jp-nbtrack-RunDetail")
        detail.get_by_role("img", name="loss over steps").wait_for()
        seen["chart_svgs"] = detail.locator("svg.jp-nbtrack-chart").count()
        path_d = detail.locator("svg.jp-nbtrack-chart path.jp-nbtrack-chart-line").first
        seen["chart_path_points"] = (path_d.get_attribute("d") or "").count("L") + 1
        seen["params"] = detail.get_by_role("table", name="Params").locator("th").all_inner_texts()
        link = detail.get_by_role("link", name="Download notes.txt")
        href = link.get_attribute("href") or ""
        seen["artifact_href"] = href
        answer = page.request.get(href)
        seen["artifact_status"] = answer.status
        seen["artifact_body"] = answer.text()
        seen["download_only"] = detail.get_by_role("link", name="model.pkl").count()
        page.screenshot(path=str(shots / "sidebar-04-run-detail.png"))
        # Text and images open in JupyterLab's own renderers, in main-area tabs.
        detail.get_by_role("button", name="Open notes.txt").click()
        text_tab = page.locator(".jp-nbtrack-ArtifactViewer[data-artifact='notes.txt']")
        text_tab.locator(".jp-RenderedText").wait_for()
        seen["text_viewer"] = text_tab.locator(".jp-RenderedText").inner_text()
        seen["text_viewer_tab"] = page.get_by_role("tab", name="notes.txt").count()
        page.get_by_role("tab", name=re.compile(r"^Run run-00")).click()
        detail.get_by_role("button", name="Open plot.png").click()
        seen["image_viewer_width"] = page.wait_for_function(
            "() => { const i = document.querySelector(\"[data-artifact='plot.png'] "
            '.jp-RenderedImage img"); return i && i.complete && i.naturalWidth; }'
        ).json_value()
        seen["image_viewer_tab"] = page.get_by_role("tab", name="plot.png").count()
        page.screenshot(path=str(shots / "sidebar-10-artifact-image.png"))
        page.get_by_role("tab", name=re.compile(r"^Run run-00")).click()
        detail.get_by_role("button", name="Open params.json").click()
        json_tab = page.locator(".jp-nbtrack-ArtifactViewer[data-artifact='params.json']")
        json_tab.locator(".jp-RenderedJSON").wait_for()
        json_tab.get_by_text("alpha").first.wait_for()
        seen["json_viewer"] = json_tab.inner_text()
        page.screenshot(path=str(shots / "sidebar-04-run-detail.png"))

        # The palette command in an open notebook: %load_ext nbtrack first, then %%track.
        page.get_by_role("tab", name="track.ipynb").click()
        page.locator(".jp-Notebook").wait_for()
        wait_for_kernel(url, token)
        page.locator(".jp-Notebook .jp-Cell").first.click()
        page.keyboard.press("Escape")
        palette_command(page, "Insert %%track cell")
        page.wait_for_function("document.querySelectorAll('.jp-Notebook .jp-Cell').length === 3")
        seen["cells"] = [
            c.inner_text().strip()
            for c in page.locator(".jp-Notebook .jp-Cell .jp-InputArea-editor").all()
        ]
        page.screenshot(path=str(shots / "sidebar-05-insert-track.png"))

        # "Show runs of this notebook" (none yet), then run the cells: the %%track run
        # is tagged with the notebook and appears in the idle sidebar by itself.
        # From the notebook's toolbar (the palette has it too).
        seen["toolbar_commands"] = page.locator(
            ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Toolbar [data-command^='nbtrack:']"
        ).evaluate_all("(items) => items.map((i) => i.dataset.command)")
        page.locator(
            ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Toolbar "
            "[data-command='nbtrack:show-notebook-runs'] button"
        ).click()
        page.wait_for_function(
            "() => document.querySelector('.jp-nbtrack-Sidebar-status')?.textContent === '0 runs'"
        )
        page.wait_for_timeout(500)
        menu(page, "Run", "Run All Cells")
        row = runs.locator("tbody tr").first
        row.wait_for()
        appeared = time.time()
        notebook_run = client.get_run(row.get_attribute("data-run-id") or "")
        seen["notebook_appear_s"] = appeared - notebook_run.info.start_time / 1000
        page.wait_for_function(
            "() => [...document.querySelectorAll('.jp-Notebook .jp-InputArea-prompt')]"
            ".every((p) => /\\[\\d+\\]/.test(p.textContent))"
        )
        page.wait_for_function(
            "() => [...document.querySelectorAll("
            '\'table[aria-label="Experiment runs"] td[data-key="status"]\')]'
            ".map((td) => td.textContent.trim()).join() === 'FINISHED'"
        )
        seen["notebook_runs_filter"] = box.input_value()
        seen["notebook_runs_experiment"] = experiment.input_value()
        seen["notebook_runs_status"] = column(runs, "status")

        # The notebook as an MLproject, from the palette: a notification says where it went.
        palette_command(page, "Export notebook as MLproject")
        toast = page.locator(".Toastify__toast", has_text="Exported to")
        toast.wait_for()
        seen["export_toast"] = toast.inner_text()
        page.screenshot(path=str(shots / "sidebar-05b-export.png"))

        # That run's lineage opens as a new notebook.
        runs.locator("tbody").get_by_role("button").first.click()
        page.get_by_role("button", name="Open as notebook").click()
        page.get_by_role("tab", name=re.compile(r"^Untitled.*\.ipynb$")).wait_for()
        # The panel shows an empty cell until the saved file has loaded.
        page.wait_for_function(
            "() => document.querySelectorAll("
            "'.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell').length >= 3"
        )
        lineage_nb = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")
        seen["lineage_cells"] = [
            c.inner_text().strip() for c in lineage_nb.locator(".jp-InputArea-editor").all()
        ]
        page.screenshot(path=str(shots / "sidebar-06-lineage-notebook.png"))

        # ... or as a Python file in JupyterLab's editor.
        runs.locator("tbody").get_by_role("button").first.click()  # back to that run's tab
        page.get_by_role("button", name="Open as script").click()
        page.get_by_role("tab", name=re.compile(r"^untitled.*\.py$", re.I)).wait_for()
        editor = page.locator(".jp-FileEditor:not(.lm-mod-hidden) .cm-content")
        editor.filter(has_text="x = 1").wait_for()
        seen["lineage_script"] = editor.inner_text()

        # The Models view: a registered model, its versions, a version's run.
        page.get_by_role("tab", name="Models", exact=True).click()
        models = page.get_by_role("tabpanel", name="Models")
        summary = models.locator("summary", has_text="wine-model")
        seen["model_summary"] = summary.inner_text()
        summary.click()
        versions = models.get_by_role("table", name="Versions of wine-model")
        versions.locator("tbody tr").first.wait_for()
        seen["model_versions"] = versions.locator("tbody tr td:first-child").all_inner_texts()
        page.screenshot(path=str(shots / "sidebar-09-models.png"))
        # Serve a version from the Models tab, score over real HTTP, stop it from the toast.
        models.locator("summary", has_text="line").click()
        line = models.get_by_role("table", name="Versions of line")
        line.get_by_role("button", name="Serve line v1").click()
        toast = page.locator(".Toastify__toast", has_text="Serving models:/line/1 at")
        toast.wait_for(timeout=90_000)
        seen["serve_toast"] = toast.inner_text()
        served_url = line.get_by_label("URL of line v1")
        served_url.wait_for()
        seen["served_url"] = served_url.inner_text()
        seen["served_predictions"] = score(seen["served_url"], [[10.0], [-1.0]])
        page.screenshot(path=str(shots / "sidebar-11-serving.png"))
        toast.get_by_role("button", name="Stop").click()
        line.get_by_role("button", name="Serve line v1").wait_for()
        try:
            score(seen["served_url"], [[1.0]])
            seen["served_after_stop"] = "answered"
        except OSError as error:
            seen["served_after_stop"] = type(error).__name__
        # Served again from the palette; then its process is killed from outside, and
        # the version's row goes back to "Serve" by itself.
        palette_command(page, "Serve model")
        address = page.get_by_role("dialog").get_by_role("textbox")
        address.fill("models:/line/1")
        address.press("Enter")
        line.get_by_label("URL of line v1").wait_for(timeout=90_000)
        listing = urllib.request.Request(
            f"{url.rstrip('/')}/nbtrack/api/serving", headers={"Authorization": f"token {token}"}
        )
        with urllib.request.urlopen(listing, timeout=10) as answer:
            (served,) = json.loads(answer.read())["servers"]
        seen["palette_served"] = served["model_uri"]
        os.kill(served["pid"], signal.SIGKILL)
        killed = time.monotonic()
        line.get_by_role("button", name="Serve line v1").wait_for(timeout=15_000)
        seen["exited_server_gone_s"] = time.monotonic() - killed
        versions.locator("tbody tr").last.get_by_role(
            "button", name=re.compile(r"^[0-9a-f]{8}$")
        ).click()
        seen["model_run_heading"] = page.get_by_role(
            "heading", name="Run run-00"
        ).first.inner_text()
        page.get_by_role("tab", name="Runs", exact=True).click()

        # Compare two runs: a table and a chart per metric with a line per run.
        experiment.select_option(label="wine")
        box.fill("")
        box.press("Enter")
        wait_rows(page, 12)
        runs.get_by_role("checkbox", name="Select run-01").check()
        runs.get_by_role("checkbox", name="Select run-02").check()
        page.get_by_role("button", name="Compare (2)").click()
        page.get_by_role("heading", name="Compare 2 runs").wait_for()
        compare = page.locator(".jp-nbtrack-RunDetail", has_text="Compare 2 runs")
        compare.get_by_role("img", name="loss over steps").wait_for()
        seen["compare_lines"] = (
            compare.get_by_role("img", name="loss over steps").locator("path").count()
        )
        seen["compare_differ"] = compare.locator("td.jp-nbtrack-diff").count()
        seen["contrast_light"] = contrasts(page)
        page.screenshot(path=str(shots / "sidebar-07-compare-light.png"))

        switch_to_dark_theme(page, ".jp-nbtrack-RunDetail h2")
        seen["contrast_dark"] = contrasts(page)
        # Switching themes shows the splash for a moment: wait it out for the screenshot.
        page.locator("#jupyterlab-splash").wait_for(state="detached")
        page.screenshot(path=str(shots / "sidebar-08-compare-dark.png"))
        browser.close()
    timings["total"] = time.monotonic() - t0
    seen["timings"] = timings
    return seen


if __name__ == "__main__":
    result = main(sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4]))
    print(json.dumps(result), flush=True)
