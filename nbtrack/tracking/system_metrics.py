"""System metrics: CPU, memory, disk, network and GPU use sampled while a run is active.

Off by default, like MLflow's: ``start_run(log_system_metrics=True)``,
``%%track --system-metrics`` or env ``NBTRACK_SYSTEM_METRICS=1`` turn it on.
A daemon thread wakes every ``NBTRACK_SYSTEM_METRICS_INTERVAL`` seconds
(default 10), samples with psutil (and NVML through ``pynvml`` when it is
importable) and queues the values in the run's metric buffer, so the samples
cost the run nothing on its own thread. One last sample is taken when the run
ends, so a run shorter than the interval still has one point.

Metric names are MLflow's (``system/cpu_utilization_percentage``,
``system/system_memory_usage_megabytes``, ``system/gpu_0_utilization_percentage``
…); the step counts samples from 0.
"""

from __future__ import annotations

import os
import threading
import time
import warnings
from typing import TYPE_CHECKING, Any

from nbtrack import env
from nbtrack.errors import NbtrackWarning

if TYPE_CHECKING:
    from nbtrack.tracking.client import Client

__all__ = [
    "DEFAULT_INTERVAL_S",
    "NBTRACK_SYSTEM_METRICS",
    "NBTRACK_SYSTEM_METRICS_INTERVAL",
    "SystemMetricsMonitor",
    "configure",
    "sample",
    "start_monitor",
]

NBTRACK_SYSTEM_METRICS = env.NBTRACK_SYSTEM_METRICS
NBTRACK_SYSTEM_METRICS_INTERVAL = env.NBTRACK_SYSTEM_METRICS_INTERVAL

DEFAULT_INTERVAL_S = 10.0
_MB = 1024 * 1024


# Set in code (MLflow's enable_system_metrics_logging and friends); they win over the env.
_settings: dict[str, Any] = {"enabled": None, "interval": None, "samples": 1, "node_id": None}


def configure(
    enabled: bool | None = None,
    interval: float | None = None,
    samples_before_logging: int | None = None,
    node_id: str | None = None,
) -> None:
    """Change system-metrics settings for runs started from now on (None keeps a setting).

    Parameters
    ----------
    enabled:
        Sample runs that do not say (``start_run(log_system_metrics=None)``).
    interval:
        Seconds between samples.
    samples_before_logging:
        Average this many samples into each logged point.
    node_id:
        Put samples under ``system/<node_id>/…``, to tell machines of one run apart.

    Raises
    ------
    InvalidInput
        A non-positive interval or sample count.
    """
    from nbtrack.errors import InvalidInput

    if interval is not None and not interval > 0:
        raise InvalidInput(f"The system metrics interval must be positive, not {interval!r}")
    if samples_before_logging is not None and (
        not isinstance(samples_before_logging, int) or samples_before_logging < 1
    ):
        raise InvalidInput(
            f"samples_before_logging must be a positive int, not {samples_before_logging!r}"
        )
    if enabled is not None:
        _settings["enabled"] = enabled
    if interval is not None:
        _settings["interval"] = float(interval)
    if samples_before_logging is not None:
        _settings["samples"] = samples_before_logging
    if node_id is not None:
        _settings["node_id"] = str(node_id) or None


def _enabled_by_env() -> bool:
    if _settings["enabled"] is not None:
        return bool(_settings["enabled"])
    return os.environ.get(NBTRACK_SYSTEM_METRICS, "").strip().lower() in ("1", "true", "yes", "on")


def _interval_from_env() -> float:
    if _settings["interval"] is not None:
        return float(_settings["interval"])
    try:
        value = float(os.environ.get(NBTRACK_SYSTEM_METRICS_INTERVAL, DEFAULT_INTERVAL_S))
    except ValueError:
        return DEFAULT_INTERVAL_S
    return value if value > 0 else DEFAULT_INTERVAL_S


class _Gpus:
    """NVML handles of the machine's GPUs (none when pynvml is missing or finds no driver)."""

    def __init__(self) -> None:
        self.handles: list[Any] = []
        self._nvml: Any = None
        try:
            import pynvml
        except ImportError:
            return
        try:
            pynvml.nvmlInit()
            self.handles = [
                pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())
            ]
            self._nvml = pynvml
        except Exception:  # no driver, no device: a machine without GPU metrics
            self.handles = []

    def sample(self) -> dict[str, float]:
        values: dict[str, float] = {}
        nvml = self._nvml
        for index, handle in enumerate(self.handles):
            prefix = f"system/gpu_{index}_"
            memory = nvml.nvmlDeviceGetMemoryInfo(handle)
            rates = nvml.nvmlDeviceGetUtilizationRates(handle)
            values[prefix + "memory_usage_megabytes"] = memory.used / _MB
            values[prefix + "memory_usage_percentage"] = 100.0 * memory.used / memory.total
            values[prefix + "utilization_percentage"] = float(rates.gpu)
        return values


def sample(gpus: _Gpus | None = None) -> dict[str, float]:
    """Return one sample of the machine's use, by MLflow's ``system/*`` metric names.

    CPU utilisation is measured since the previous call in this process (the
    first call primes it and reads 0).
    """
    import psutil

    memory = psutil.virtual_memory()
    disk = psutil.disk_usage(os.path.abspath(os.sep))
    values = {
        "system/cpu_utilization_percentage": float(psutil.cpu_percent(interval=None)),
        "system/system_memory_usage_megabytes": (memory.total - memory.available) / _MB,
        "system/system_memory_usage_percentage": float(memory.percent),
        "system/disk_usage_percentage": float(disk.percent),
        "system/disk_usage_megabytes": disk.used / _MB,
        "system/disk_available_megabytes": disk.free / _MB,
    }
    network = psutil.net_io_counters()
    if network is not None:
        values["system/network_receive_megabytes"] = network.bytes_recv / _MB
        values["system/network_transmit_megabytes"] = network.bytes_sent / _MB
    if gpus is not None:
        values.update(gpus.sample())
    return values


class SystemMetricsMonitor:
    """A daemon thread that samples the system into a run's metrics until :meth:`stop`.

    Parameters
    ----------
    run_id:
        The run the samples are logged to.
    client:
        Its client; samples go through the client's metric buffer.
    interval:
        Seconds between samples.
    """

    def __init__(self, run_id: str, client: Client, interval: float) -> None:
        self.run_id = run_id
        self.interval = interval
        self.samples = 0
        self._buffer = client._buffer
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._gpus: _Gpus | None = None
        self._pending: list[dict[str, float]] = []
        self.samples_before_logging = int(_settings["samples"])
        self.node_id: str | None = _settings["node_id"]
        self._thread = threading.Thread(
            target=self._loop, name=f"nbtrack-system-metrics-{run_id[:8]}", daemon=True
        )

    def start(self) -> SystemMetricsMonitor:
        """Prime the CPU counter and start sampling; returns self."""
        import psutil

        psutil.cpu_percent(interval=None)
        self._thread.start()
        return self

    def _log_sample(self, last: bool = False) -> None:
        with self._lock:
            if self._gpus is None:
                self._gpus = _Gpus()
            self._pending.append(sample(self._gpus))
            if len(self._pending) < self.samples_before_logging and not last:
                return
            # Each logged point is the mean of the samples taken since the last one.
            keys = {k for taken in self._pending for k in taken}
            mean = {
                k: sum(v) / len(v)
                for k in keys
                for v in [[taken[k] for taken in self._pending if k in taken]]
            }
            self._pending.clear()
            now = int(time.time() * 1000)
            step = self.samples
            prefix = f"system/{self.node_id}/" if self.node_id else None
            self._buffer.extend(
                [
                    (
                        self.run_id,
                        prefix + key[len("system/") :] if prefix else key,
                        value,
                        now,
                        step,
                    )
                    for key, value in sorted(mean.items())
                ]
            )
            self.samples += 1

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self._log_sample()
            except Exception as exc:  # a background sampler must not die on one bad read
                warnings.warn(
                    f"nbtrack could not sample system metrics: {type(exc).__name__}: {exc}",
                    NbtrackWarning,
                    stacklevel=1,
                )
                return

    def stop(self) -> None:
        """Take a last sample, stop the thread and wait for it (queued, not yet written)."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(timeout=max(5.0, self.interval))
        try:
            self._log_sample(last=True)
        except Exception as exc:  # ending the run matters more than its last sample
            warnings.warn(
                f"nbtrack could not sample system metrics: {type(exc).__name__}: {exc}",
                NbtrackWarning,
                stacklevel=2,
            )


def start_monitor(run_id: str, client: Client, enabled: bool | None) -> SystemMetricsMonitor | None:
    """Start sampling for ``run_id`` when ``enabled`` (None: as env says); return the monitor.

    Returns None when system metrics are off, or when psutil is not installed
    (with a warning: the user asked for them).
    """
    if enabled is None:
        enabled = _enabled_by_env()
    if not enabled:
        return None
    import importlib.util

    if importlib.util.find_spec("psutil") is None:
        warnings.warn(
            "System metrics need psutil: pip install 'nbtrack[system]'",
            NbtrackWarning,
            stacklevel=3,
        )
        return None
    return SystemMetricsMonitor(run_id, client, _interval_from_env()).start()
