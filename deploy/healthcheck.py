"""Container health check: ``python deploy/healthcheck.py [port] [path]`` exits 0 when ``path``
of the server in this container answers 200.

- ``/healthz`` (the default, the web service): liveness. 200 while the database answers, since
  writes then work; Redis down is reported in the body (``"redis": "down"``) but stays 200, so
  the REST service is not marked unhealthy for what it can do without Redis.
- ``/healthz/ready`` (the ws service): the strict check, 503 unless the database and Redis both
  answer; a WebSocket server without Redis cannot deliver any broadcast.

The request looks like one from the proxy: its Host is the first of ``DJANGO_ALLOWED_HOSTS``
(so Django does not refuse it) and it says ``X-Forwarded-Proto: https`` (so that
``DJANGO_SECURE_SSL_REDIRECT`` does not answer a redirect; honoured with DJANGO_BEHIND_PROXY=1).
Standard library only: the slim image has no curl.
"""

import http.client
import os
import sys


def health_host() -> str:
    for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(","):
        host = host.strip()
        if host and host != "*":
            return host.lstrip(".")  # ".example.org" also allows "example.org"
    return "localhost"


def main() -> int:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
    path = sys.argv[2] if len(sys.argv) > 2 else "/healthz"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(
            "GET", path, headers={"Host": health_host(), "X-Forwarded-Proto": "https"}
        )
        response = connection.getresponse()
        body = response.read(500).decode(errors="replace")
    except OSError as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return 1
    finally:
        connection.close()
    print(f"{path}: {response.status} {body}")
    return 0 if response.status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
