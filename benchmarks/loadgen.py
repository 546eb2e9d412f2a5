"""A small HTTP load generator, used only when ``wrk`` is missing and cannot be installed.

Runs in separate processes (``python -m benchmarks.loadgen``), each opening a new
connection per request (gunicorn's sync workers close it anyway), and prints one
JSON line: ``{"requests": n, "seconds": s, "errors": e, "non_2xx": m}``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import time


def _worker(host: str, port: int, path: str, headers: dict[str, str], duration: float, queue) -> None:
    done = errors = non_2xx = 0
    deadline = time.perf_counter() + duration
    while time.perf_counter() < deadline:
        try:
            conn = http.client.HTTPConnection(host, port, timeout=10)
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            conn.close()
            done += 1
            if not 200 <= response.status < 400:
                non_2xx += 1
        except OSError:
            errors += 1
    queue.put((done, errors, non_2xx))


def run(host: str, port: int, path: str, headers: dict[str, str], duration: float, connections: int) -> dict:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    started = time.perf_counter()
    workers = [
        context.Process(target=_worker, args=(host, port, path, headers, duration, queue)) for _ in range(connections)
    ]
    for worker in workers:
        worker.start()
    results = [queue.get() for _ in workers]
    for worker in workers:
        worker.join()
    seconds = time.perf_counter() - started
    return {
        "requests": sum(r[0] for r in results),
        "seconds": seconds,
        "errors": sum(r[1] for r in results),
        "non_2xx": sum(r[2] for r in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args()
    headers = dict(h.split(": ", 1) for h in args.header)
    print(json.dumps(run(args.host, args.port, args.path, headers, args.duration, args.connections)))


if __name__ == "__main__":
    main()
