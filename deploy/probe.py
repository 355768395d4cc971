"""Container health probes, run as `python deploy/probe.py …` (standard library only, no Django start-up).

    python deploy/probe.py http http://127.0.0.1:8000/healthz   # 200 from the web process
    python deploy/probe.py pidfile /var/lib/jiupian/celerybeat.pid   # the process in the pid file is alive

Exit status 0 = healthy, 1 = not.
"""

import os
import sys
import urllib.request
from pathlib import Path


def http_ok(url: str, timeout: float = 4.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except OSError:
        return False


def pid_alive(pidfile: Path) -> bool:
    try:
        pid = int(pidfile.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "http":
        return 0 if http_ok(argv[1]) else 1
    if len(argv) == 2 and argv[0] == "pidfile":
        return 0 if pid_alive(Path(argv[1])) else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
