"""Per-fit overhead of sklearn autologging (issue 3 targets: ≤ 10 ms, ≤ 60 ms with the model).

``python -m bench.autolog_overhead`` fits LogisticRegression on iris 20 times
per setting into a fresh SQLite store and prints medians. Two figures:
the time autolog itself spends per fit (its begin and finish steps, timed
directly, which is insensitive to the noise of the fit), and the wall time of
a whole fit with autolog off and on, interleaved.
"""

from __future__ import annotations

import functools
import statistics
import tempfile
import time
from typing import Any


def main(repeat: int = 20) -> None:
    """Print the median overheads, with and without logging the model."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    import nbtrack
    from nbtrack.autologging import autolog
    from nbtrack.autologging import sklearn as sk

    X, y = load_iris(return_X_y=True)
    nbtrack.set_tracking_uri(tempfile.mkdtemp(prefix="nbtrack-bench-") + "/store")
    spent: list[float] = []

    def timed(function: Any) -> Any:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent.append(time.perf_counter() - start)

        return wrapper

    sk._begin = timed(sk._begin)  # type: ignore[method-assign]
    sk._finish = timed(sk._finish)  # type: ignore[method-assign]

    def fit_ms() -> float:
        model = LogisticRegression(max_iter=500)
        start = time.perf_counter()
        model.fit(X, y)
        return (time.perf_counter() - start) * 1000

    for log_models in (False, True):
        autolog(log_models=log_models)
        for _ in range(3):
            fit_ms()
        own, wall_on, wall_off = [], [], []
        for _ in range(repeat):
            spent.clear()
            wall_on.append(fit_ms())
            own.append(sum(spent) * 1000)
            autolog(disable=True)
            wall_off.append(fit_ms())
            autolog(log_models=log_models)
        autolog(disable=True)
        print(
            f"log_models={log_models}: autolog's own time {statistics.median(own):.2f} ms/fit "
            f"(median of {repeat}); fit wall time off {statistics.median(wall_off):.2f} ms, "
            f"on {statistics.median(wall_on):.2f} ms"
        )


if __name__ == "__main__":
    main()
