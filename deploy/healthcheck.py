#!/usr/bin/env python3
"""Container health check for an aigov service (the slim image has no curl).

    aigov-healthcheck            # GET /healthz of this container's service (liveness)
    aigov-healthcheck /readyz    # GET /readyz (database, migrations, follower lag)

The service is ``AIGOV_SERVICE`` (registry, risk or reporting) and its port ``AIGOV_<SERVICE>_PORT``
(defaults 8001, 8002, 8003), the same settings ``aigov serve`` reads. Exits 0 on a 2xx answer, 1 otherwise
(an error status, no answer within the timeout, nothing listening). Standard library only.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

DEFAULT_PORTS = {"registry": 8001, "risk": 8002, "reporting": 8003}
TIMEOUT_SECONDS = float(os.environ.get("AIGOV_HEALTHCHECK_TIMEOUT", "3"))


def url(path: str) -> str:
    service = os.environ.get("AIGOV_SERVICE", "registry")
    if service not in DEFAULT_PORTS:
        raise SystemExit(f"AIGOV_SERVICE must be one of {', '.join(DEFAULT_PORTS)}, not {service!r}")
    port = int(os.environ.get(f"AIGOV_{service.upper()}_PORT", DEFAULT_PORTS[service]))
    return f"http://127.0.0.1:{port}{path}"


def main(argv: list[str]) -> int:
    target = url(argv[1] if len(argv) > 1 else "/healthz")
    try:
        with urllib.request.urlopen(target, timeout=TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        print(f"unhealthy: {target} answered {error.code}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as error:
        print(f"unhealthy: {target}: {error}", file=sys.stderr)
        return 1
    if not 200 <= status < 300:
        print(f"unhealthy: {target} answered {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
