"""``nbtrack sync``: push the runs of a local store to a team server, sending only news.

- :mod:`nbtrack.sync.target` speaks to the server: an nbtrack server (runs keep
  their ids) or a plain MLflow server (MLflow's routes; the server picks run ids);
- :mod:`nbtrack.sync.runs` brings one run's copy up to date from the sync state;
- :mod:`nbtrack.sync.registry` copies registered models, versions, aliases and tags;
- :mod:`nbtrack.sync.engine` plans a sync (or a dry run), runs it and reports.

The state of what was sent lives in the local store (``Store.get_sync_runs``…),
written after each acknowledged write, so a sync killed midway resumes where
it stopped and a retried batch carries the same ``Nbtrack-Request-Id``.
"""

from __future__ import annotations
