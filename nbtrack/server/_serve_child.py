"""``python -m nbtrack.server._serve_child MODEL_URI``: one scoring server for the Jupyter server.

Started by :class:`nbtrack.server.serving.ModelServers`. It serves
``MODEL_URI`` (resolved against ``NBTRACK_TRACKING_URI``) on a free port of
127.0.0.1 with :func:`nbtrack.serving.background.serve`, prints
``{"url": ...}`` as its first stdout line once the server accepts
connections, and stops when its stdin closes: the parent closes it to stop
the server, and the operating system closes it when the parent ends, however
it ends. A model that cannot load ends the process with the traceback on
stderr, whose last line the parent shows the user.
"""

from __future__ import annotations

import json
import sys


def main(argv: list[str]) -> int:
    """Serve ``argv[1]`` until stdin closes; return the exit code."""
    from nbtrack.serving.background import serve

    if len(argv) != 2:
        print("usage: python -m nbtrack.server._serve_child MODEL_URI", file=sys.stderr)
        return 2
    handle = serve(argv[1], port=None, host="127.0.0.1")
    print(json.dumps({"url": handle.url}), flush=True)
    try:
        # Blocks until the parent closes the pipe (or ends); nothing is ever written to it.
        sys.stdin.buffer.read()
    finally:
        handle.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
