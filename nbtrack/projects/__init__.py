"""Notebooks as projects: export as MLproject or model folder, and the project runner."""

from nbtrack.projects.export import ExportedProject, export_mlproject, export_run_lineage
from nbtrack.projects.runner import ProjectRunResult, run_project

__all__ = [
    "ExportedProject",
    "ProjectRunResult",
    "export_mlproject",
    "export_run_lineage",
    "run_project",
]
