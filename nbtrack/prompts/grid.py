"""The result of :func:`nbtrack.compare_prompts`: outputs per (input, combination), marks.

A :class:`PromptGrid` holds the inputs as rows and the (prompt × model)
combinations as columns, each with its run. ``mark`` records the preferred
output of a row on the runs; ``register`` saves a combination's template in
the prompt registry. In a live kernel it shows as a panel whose buttons mark.
"""

from __future__ import annotations

import contextlib
import html
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from nbtrack.errors import InvalidInput
from nbtrack.prompts.template import PromptVersion

__all__ = ["Cell", "Combination", "PromptGrid"]


@dataclass
class Cell:
    """One (input row, combination) output, or the error that replaced it."""

    output: str | None
    error: str | None = None
    latency_ms: float | None = None
    tokens: int | None = None  # completion tokens
    cached: bool = False
    prompt_tokens: int | None = None


@dataclass
class Combination:
    """One (template, model) pair and its run."""

    label: str
    template: PromptVersion
    model_name: str
    run_id: str = ""
    cells: list[Cell] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)


@contextlib.contextmanager
def _reopened(client: Any, run_id: str) -> Iterator[None]:
    """Log to a finished run: reopen it, then restore its status and end time."""
    info = client.get_run(run_id).info
    client.update_run(run_id, status="RUNNING")
    try:
        yield
    finally:
        client.set_terminated(run_id, info.status, info.end_time)


@dataclass
class PromptGrid:
    """The comparison: inputs as rows, (prompt × model) combinations as columns.

    Displays as an HTML grid. ``mark(row, label)`` records the preferred output
    of a row; ``register(label, name)`` registers a combination's template.
    """

    rows: list[dict[str, Any]]
    combinations: list[Combination]
    parent_run_id: str
    reference: str | None = None
    marks: dict[int, str] = field(default_factory=dict)

    def to_frame(self) -> Any:
        """The outputs as a DataFrame (errors shown as ``error: …``)."""
        import pandas as pd

        data = {
            combo.label: [c.output if c.error is None else f"error: {c.error}" for c in combo.cells]
            for combo in self.combinations
        }
        return pd.DataFrame(data)

    @property
    def metrics(self) -> dict[str, dict[str, float]]:
        """Metric summaries per combination label."""
        return {combo.label: dict(combo.metrics) for combo in self.combinations}

    def _combination(self, label: str) -> Combination:
        for combo in self.combinations:
            if combo.label == label:
                return combo
        known = ", ".join(c.label for c in self.combinations)
        raise InvalidInput(f"No combination {label!r}; the columns are: {known}")

    def mark(self, row: int, label: str) -> None:
        """Mark ``label``'s output as the preferred one for input ``row``; logged to the runs."""
        from nbtrack.tracking.client import Client

        if not 0 <= row < len(self.rows):
            raise InvalidInput(f"No input row {row}; rows are 0 to {len(self.rows) - 1}")
        self._combination(label)  # an unknown label is refused before anything is logged
        self.marks[row] = label
        client = Client()
        for combo in self.combinations:
            wins = sum(1 for marked in self.marks.values() if marked == combo.label)
            with _reopened(client, combo.run_id):
                client.log_metric(combo.run_id, "preferred_count", float(wins))
        with _reopened(client, self.parent_run_id):
            marks = {str(r): m for r, m in sorted(self.marks.items())}
            client.log_dict(self.parent_run_id, marks, "marks.json")

    def register(self, label: str, name: str, commit_message: str | None = None) -> PromptVersion:
        """Register ``label``'s template as a new version of prompt ``name``."""
        from nbtrack.prompts.registry import register_prompt

        combo = self._combination(label)
        return register_prompt(
            name,
            combo.template.template,
            commit_message=commit_message or f"won prompt comparison run {self.parent_run_id}",
            tags={"nbtrack.comparison.run_id": combo.run_id},
        )

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(str(k))}</th>" for k in self.rows[0]) if self.rows else ""
        head += "".join(f"<th>{html.escape(c.label)}</th>" for c in self.combinations)
        body = []
        for index, row in enumerate(self.rows):
            cells = "".join(f"<td>{html.escape(str(v))}</td>" for v in row.values())
            for combo in self.combinations:
                cell = combo.cells[index]
                text = cell.output if cell.error is None else f"⚠ {cell.error}"
                style = (
                    " style='outline: 2px solid var(--jp-brand-color1, #1976d2)'"
                    if (self.marks.get(index) == combo.label)
                    else ""
                )
                cells += f"<td{style}>{html.escape(str(text))}</td>"
            body.append(f"<tr>{cells}</tr>")
        summary = "".join(
            "<td>"
            + "<br>".join(f"{html.escape(k)}: {v:.4g}" for k, v in combo.metrics.items())
            + "</td>"
            for combo in self.combinations
        )
        width = len(self.rows[0]) if self.rows else 0
        footer = f"<tr><td colspan='{width}'><b>summary</b></td>{summary}</tr>"
        return (
            "<table class='nbtrack-prompt-grid' style='color: var(--jp-ui-font-color1, inherit)'>"
            f"<tr>{head}</tr>{''.join(body)}{footer}</table>"
        )
