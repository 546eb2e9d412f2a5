"""CPU instructions per request, in-process under valgrind (``python -m benchmarks.instructions``).

The routing benchmark's served figures swing by 30% from one run to the next on a shared
2-core machine; the instructions a request executes do not. This counts them with
valgrind's cachegrind (``--cache-sim=no``: instructions only) for one settings module
(``DJANGO_SETTINGS_MODULE``) and one view: the process is run twice, with 0 and with
``--requests`` requests through Django's WSGI handler after the same warm-up, and the
difference divided by the requests is the figure. The database is the benchmark's (round
trips are real; valgrind counts only this process's instructions, not PostgreSQL's).
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import subprocess
import sys

WARMUP = 50


def serve(path: str, host: str, cookie: str, count: int) -> None:
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler

    handler = WSGIHandler()

    def environ() -> dict:
        return {
            "REQUEST_METHOD": "GET", "PATH_INFO": path, "SERVER_NAME": host, "SERVER_PORT": "80",
            "HTTP_HOST": host, "wsgi.input": io.BytesIO(), "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr, "wsgi.multithread": False, "wsgi.multiprocess": True,
            "HTTP_COOKIE": cookie,
        }  # fmt: skip

    status: list[str] = []

    def start_response(code, headers, exc_info=None):
        status.append(code)

    for _ in range(WARMUP + count):
        b"".join(handler(environ(), start_response))
        if not status[-1].startswith("200"):
            raise SystemExit(f"{path} answered {status[-1]}")


def count(settings_module: str, env: dict[str, str], path: str, host: str, cookie: str, requests: int) -> dict | None:
    """Instructions per request of ``path`` under ``settings_module``; None without valgrind."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return None
    totals = []
    for n in (0, requests):
        command = [
            valgrind, "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
            sys.executable, "-m", "benchmarks.instructions", "--path", path, "--host", host, "--cookie", cookie,
            "--serve", str(n),
        ]  # fmt: skip
        out = subprocess.run(command, env={**env, "DJANGO_SETTINGS_MODULE": settings_module}, capture_output=True,
                             text=True, check=False)  # fmt: skip
        found = re.search(r"I\s+refs:\s+([\d,]+)", out.stderr)
        if out.returncode != 0 or not found:
            raise RuntimeError(f"valgrind ({settings_module}, {n} requests) failed:\n{out.stderr[-2000:]}")
        totals.append(int(found.group(1).replace(",", "")))
    return {"per_request": (totals[1] - totals[0]) / requests, "totals": totals, "requests": requests}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--path", required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--cookie", default="")
    parser.add_argument("--serve", type=int, required=True, help="requests to serve after the warm-up")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "concord.settings.bench")
    serve(args.path, args.host, args.cookie, args.serve)


if __name__ == "__main__":
    main()
