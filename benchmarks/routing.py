"""Tenant routing: the same views through the full stack and through plain Django.

- full: ``concord.settings.bench`` (PartnershipMiddleware, its host cache on,
  django-tenants' backend); the partnership is chosen by the Host header.
- plain: ``concord.settings.bench_plain`` (no tenant app, middleware or backend;
  the connection's search_path pinned to the partnership's schema).

Both are served by gunicorn, 2 sync workers each, on free loopback ports, and
loaded with ``wrk`` (installed with apt-get if missing; else a Python generator
in separate processes). Runs alternate in pairs whose order flips each time
(plain, full, full, plain, plain, full ...), so a drift of the machine's speed
during the benchmark (these 2-core machines speed up and slow down by 30% from
one run to the next) weighs on both configurations alike; the figure is the
median requests/s of each (the goal is checked on the ratio of the two medians;
the median of the ratios of each pair is printed too, as it is less sensitive
to other load on the machine). Round trips per request are counted in-process
(``benchmarks.roundtrips``), and the web workers' own CPU time per request is
read from ``/proc`` around each run: what routing itself costs, without wrk's
and PostgreSQL's share of the two cores.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import (
    BENCH_SCHEMA,
    FULL_SETTINGS,
    PLAIN_SETTINGS,
    ROOT,
    SOURCE_ROOT,
    VENV_BIN,
    Goal,
    Report,
    child_env,
    median,
    say,
)

RUNS = int(os.environ.get("BENCH_ROUTING_RUNS", "16"))
DURATION = int(os.environ.get("BENCH_ROUTING_SECONDS", "2"))
WARMUP = 2
CONNECTIONS = 4
WORKERS = 2
ROWS = 20
HOST = f"{BENCH_SCHEMA}.localhost"
# Requests counted under valgrind per view (about 40 times slower than natively).
INSTRUCTION_REQUESTS = {"one_query": 300, "signed_in": 100}
VIEWS = [
    ("one_query", "/bench/one-query/", "1-query JSON endpoint", 0.95),  # issue 11: with the role switch
    ("signed_in", "/bench/signed-in/", "signed-in page (session + user + 20 rows)", 0.95),
]


# --- Data ------------------------------------------------------------------------------


def prepare_data() -> str:
    """20 users in the partnership and a real session for one of them; returns ``name=value``."""
    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore
    from django_tenants.utils import schema_context

    from tenant_apps.accounts.models import User

    with schema_context(BENCH_SCHEMA):
        for i in range(ROWS):
            User.objects.get_or_create(
                email=f"person{i:02d}@{BENCH_SCHEMA}.example",
                defaults={"full_name": f"Person {i:02d}", "role": User.Role.PRACTITIONER},
            )
        user = User.objects.get(email=f"person00@{BENCH_SCHEMA}.example")
        session = SessionStore()
        session.update(_signed_in_session(user))
        session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def _signed_in_session(user) -> dict:
    """The session a full sign-in leaves: auth keys, and where the project has them, its
    session-policy clock and a verified second factor (django-otp)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    backends = getattr(settings, "AUTHENTICATION_BACKENDS", None) or ["django.contrib.auth.backends.ModelBackend"]
    data = {
        SESSION_KEY: str(user.pk),
        BACKEND_SESSION_KEY: backends[0],
        HASH_SESSION_KEY: user.get_session_auth_hash(),
    }
    try:
        from tenant_apps.accounts import services
    except ImportError:
        services = None
    now = time.time()
    for name in ("SESSION_SIGNED_IN_AT", "SESSION_LAST_SEEN"):
        if getattr(services, name, None):
            data[getattr(services, name)] = now
    if "django_otp.middleware.OTPMiddleware" in settings.MIDDLEWARE:
        from django_otp import DEVICE_ID_SESSION_KEY

        if hasattr(services, "totp_enrolment_start"):
            device = services.totp_enrolment_start(user=user)
            device.confirmed = True
            device.save()
        else:
            from django_otp.plugins.otp_static.models import StaticDevice

            device = StaticDevice.objects.create(user=user, name="bench", confirmed=True)
        data[DEVICE_ID_SESSION_KEY] = device.persistent_id
    return data


# --- Servers ---------------------------------------------------------------------------


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """``count`` distinct free loopback ports below the kernel's ephemeral range (32768 up), so
    that none is a client's source port, live or in TIME_WAIT (wrk leaves thousands): all are
    held bound until every one is found."""
    held: list[socket.socket] = []
    try:
        for port in random.sample(range(20000, 32000), 2000):
            sock = socket.socket()
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                sock.close()
                continue
            held.append(sock)
            if len(held) == count:
                return [s.getsockname()[1] for s in held]
        raise RuntimeError(f"no {count} free loopback ports between 20000 and 32000")
    finally:
        for sock in held:
            sock.close()


@dataclass
class Server:
    label: str
    settings_module: str
    port: int
    process: subprocess.Popen
    log_path: str
    # Further ports the same server listens on: each load run takes the next (``next_port``), so
    # that no run connects to a port still holding the previous run's TIME_WAIT sockets (a sync
    # worker closes every connection; a second run on the same port was measured ~10% slower).
    run_ports: tuple[int, ...] = ()
    _turn: int = 0

    def next_port(self) -> int:
        if not self.run_ports:
            return self.port
        port = self.run_ports[self._turn % len(self.run_ports)]
        self._turn += 1
        return port

    def get(self, path: str, cookie: str | None = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"Host": HOST}
        if cookie:
            headers["Cookie"] = cookie
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        conn.close()
        return response.status, body

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def worker_cpu_seconds(self) -> float | None:
        """User + system CPU seconds used so far by the gunicorn workers (the master's children),
        from ``/proc``; None where ``/proc`` is not readable."""
        ticks, found = 0, False
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # a process that ended meanwhile
            if int(fields[1]) == self.process.pid:  # ppid (field 4); utime, stime (fields 14, 15)
                ticks, found = ticks + int(fields[11]) + int(fields[12]), True
        return ticks / os.sysconf("SC_CLK_TCK") if found else None


def start_server(label: str, settings_module: str, env: dict[str, str] | None = None, run_ports: int = 0) -> Server:
    """gunicorn with 2 sync workers on a free loopback port, and ``run_ports`` more for the load
    runs (``Server.next_port``); ``env``: variables added to the settings'."""
    port, *more = free_ports(1 + run_ports)
    more = tuple(more)
    fd, log_path = tempfile.mkstemp(prefix=f"bench-gunicorn-{label}-", suffix=".log")
    command = [
        str(VENV_BIN / "gunicorn"), "concord.wsgi:application",
        "--workers", str(WORKERS), "--worker-class", "sync",
        "--bind", f"127.0.0.1:{port}", *[f"--bind=127.0.0.1:{extra}" for extra in more], "--chdir", str(ROOT),
        "--pythonpath", f"{ROOT},{SOURCE_ROOT}", "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, env={**child_env(settings_module), **(env or {})}, stdout=fd, stderr=fd)
    os.close(fd)
    server = Server(label, settings_module, port, process, log_path, run_ports=more)
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            tail = Path(log_path).read_text()[-2000:]
            raise RuntimeError(f"gunicorn ({label}) exited:\n{tail}")
        try:
            status, _ = server.get("/bench/one-query/")
            if status == 200:
                return server
            raise RuntimeError(f"gunicorn ({label}) answered {status}; see {log_path}")
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn ({label}) did not answer within 60 s; see {log_path}") from None
            time.sleep(0.2)


def check_server(server: Server, cookie: str) -> None:
    """Both views answer 200 with the expected content (a redirect would mean no session)."""
    status, body = server.get("/bench/one-query/")
    if status != 200 or b"email" not in body:
        raise RuntimeError(f"{server.label}: one-query answered {status}")
    status, body = server.get("/bench/signed-in/", cookie)
    if status != 200 or body.count(b"<tr><td>") != ROWS or b"Signed in as Person" not in body:
        raise RuntimeError(f"{server.label}: signed-in page answered {status} without the {ROWS} rows")


# --- Load --------------------------------------------------------------------------------


def find_wrk() -> str | None:
    return find_tool("wrk")


def find_tool(name: str) -> str | None:
    """``name`` on PATH, installed from Debian's package of that name if missing (as root)."""
    found = shutil.which(name)
    if found or os.environ.get("BENCH_NO_INSTALL"):
        return found
    if shutil.which("apt-get") and os.geteuid() == 0:
        say(f"  {name} is missing: installing it with apt-get ...")
        install = ["apt-get", "install", "-y", "-qq", name]
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        if subprocess.run(install, **quiet).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], **quiet)
            subprocess.run(install, **quiet)
    return shutil.which("wrk")


def load(wrk: str | None, server: Server, path: str, cookie: str | None, seconds: int) -> tuple[float, int]:
    """Requests per second and requests served in one run; fails on any error or non-2xx answer."""
    headers = [f"Host: {HOST}"] + ([f"Cookie: {cookie}"] if cookie else [])
    if wrk:
        command = [wrk, "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s"]
        for header in headers:
            command += ["-H", header]
        command.append(f"http://127.0.0.1:{server.next_port()}{path}")
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        errors = re.search(r"Socket errors: (.*)", out)
        if bad or (errors and re.search(r"(read|write|timeout) [1-9]", errors.group(1))):
            raise RuntimeError(f"{server.label} {path}: errors under load:\n{out}")
        served = int(re.search(r"(\d+) requests in", out).group(1))
        return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), served
    command = [
        sys.executable, "-m", "benchmarks.loadgen", "--port", str(server.next_port()), "--path", path,
        "--duration", str(seconds), "--connections", str(CONNECTIONS),
    ]  # fmt: skip
    for header in headers:
        command += ["--header", header]
    result = json.loads(subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT).stdout)
    if result["errors"] or result["non_2xx"]:
        raise RuntimeError(f"{server.label} {path}: errors under load: {result}")
    return result["requests"] / result["seconds"], result["requests"]


# --- Round trips ---------------------------------------------------------------------------


def round_trips(settings_module: str, cookie: str) -> dict:
    command = [sys.executable, "-m", "benchmarks.roundtrips", "--host", HOST, "--session-cookie", cookie]
    out = subprocess.run(command, env=child_env(settings_module), capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(f"round trips ({settings_module}) failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def count_instructions(cookie: str) -> dict[str, dict[str, float]]:
    """Instructions per request of each view in each configuration (``benchmarks.instructions``,
    valgrind; installed with apt-get if missing): the two configurations counted at once."""
    from concurrent.futures import ThreadPoolExecutor

    from benchmarks import instructions

    if find_tool("valgrind") is None:
        say("  instructions per request: valgrind unavailable, not counted")
        return {}
    found: dict[str, dict[str, float]] = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for key, path, _, _ in VIEWS:
            view_cookie = cookie if key == "signed_in" else ""
            requests = INSTRUCTION_REQUESTS[key]
            jobs = {
                config: pool.submit(instructions.count, module, child_env(module), path, HOST, view_cookie, requests)
                for config, module in (("plain", PLAIN_SETTINGS), ("full", FULL_SETTINGS))
            }
            found[key] = {config: job.result()["per_request"] for config, job in jobs.items()}
    return found


# --- The benchmark ---------------------------------------------------------------------------


def run(report: Report) -> None:
    from django.conf import settings
    from django.db import connections

    say("== Tenant routing ==")
    cookie = prepare_data()
    connections.close_all()
    say(f"  full stack: {FULL_SETTINGS} (TENANT_CACHE_SECONDS={settings.TENANT_CACHE_SECONDS})")
    say(f"  plain:      {PLAIN_SETTINGS} (search_path={BENCH_SCHEMA},public, stock postgresql backend)")
    if settings.TENANT_CACHE_SECONDS <= 0:
        say("  WARNING: the host cache is off (TENANT_CACHE_SECONDS=0); the full-stack figures include a lookup")

    trips = {"plain": round_trips(PLAIN_SETTINGS, cookie), "full": round_trips(FULL_SETTINGS, cookie)}
    say("  database round trips per request (steady state, after one warm-up request):")
    for key, _, title, _ in VIEWS:
        for config in ("plain", "full"):
            t = trips[config][key]
            say(f"    {title}, {config}: {t['sent']} sent ({t['captured']} captured by CaptureQueriesContext)")
            for statement in t["statements"]:
                say(f"      - {statement[:110]}")
    miss = trips["full"]["one_query_cache_miss"]
    say(f"    1-query JSON endpoint, full, host-cache miss (once per {settings.TENANT_CACHE_SECONDS} s per worker):")
    say(f"      {miss['sent']} sent ({miss['captured']} captured)")
    for statement in miss["statements"]:
        say(f"      - {statement[:110]}")

    instructions = count_instructions(cookie)

    wrk = find_wrk()
    say(f"  load: {'wrk ' + wrk if wrk else 'Python generator (wrk unavailable)'}, {CONNECTIONS} connections, "
        f"{DURATION} s per run, {RUNS} runs per config, interleaved; gunicorn {WORKERS} sync workers")  # fmt: skip

    servers: dict[str, Server] = {}
    try:
        runs = len(VIEWS) * (RUNS + 1)  # a port for each run and warm-up
        servers["plain"] = start_server("plain", PLAIN_SETTINGS, run_ports=runs)
        servers["full"] = start_server("full", FULL_SETTINGS, run_ports=runs)
        for server in servers.values():
            check_server(server, cookie)
        results: dict[str, dict[str, list[float]]] = {key: {"plain": [], "full": []} for key, *_ in VIEWS}
        cpu: dict[str, dict[str, list[float]]] = {key: {"plain": [], "full": []} for key, *_ in VIEWS}
        for key, path, _, _ in VIEWS:
            view_cookie = cookie if key == "signed_in" else None
            for config in ("plain", "full"):
                load(wrk, servers[config], path, view_cookie, WARMUP)
            for run_number in range(RUNS):
                order = ("plain", "full") if run_number % 2 == 0 else ("full", "plain")
                for config in order:
                    before = servers[config].worker_cpu_seconds()
                    rps, served = load(wrk, servers[config], path, view_cookie, DURATION)
                    after = servers[config].worker_cpu_seconds()
                    results[key][config].append(rps)
                    if before is not None and after is not None and served:
                        cpu[key][config].append((after - before) / served * 1e6)
                say(f"    {key} run {run_number + 1} ({order[0]} first): plain {results[key]['plain'][-1]:.0f} req/s, "
                    f"full {results[key]['full'][-1]:.0f} req/s")  # fmt: skip
        for server in servers.values():
            check_server(server, cookie)
    finally:
        for server in servers.values():
            server.stop()
        for server in servers.values():
            os.unlink(server.log_path)

    for key, _, title, target in VIEWS:
        plain, full = median(results[key]["plain"]), median(results[key]["full"])
        paired = median([f / p for p, f in zip(results[key]["plain"], results[key]["full"], strict=True)])
        line = (
            f"{title}: plain {plain:.0f} req/s, full {full:.0f} req/s (medians of {RUNS}); "
            f"median of paired run ratios {paired:.2f}x; round trips plain "
            f"{trips['plain'][key]['sent']}, full {trips['full'][key]['sent']}"
        )
        say(f"  {line}")
        report.lines.append(line)
        runs = results[key]["plain"] + results[key]["full"]
        if max(runs) > 1.3 * min(runs):
            note = f"{title}: runs vary by more than 30% ({min(runs):.0f}-{max(runs):.0f} req/s): other load?"
            say(f"  NOTE {note}")
            report.lines.append(f"NOTE {note}")
        if cpu[key]["plain"] and cpu[key]["full"]:
            cpu_plain, cpu_full = median(cpu[key]["plain"]), median(cpu[key]["full"])
            cpu_line = (
                f"{title}: web workers' CPU per request plain {cpu_plain:.0f} us, full {cpu_full:.0f} us "
                f"({cpu_full - cpu_plain:+.0f} us, {cpu_full / cpu_plain:.2f}x; medians of {RUNS})"
            )
            say(f"  {cpu_line}")
            report.lines.append(cpu_line)
        if instructions.get(key):
            i_plain, i_full = instructions[key]["plain"], instructions[key]["full"]
            i_line = (
                f"{title}: instructions per request (valgrind, in-process) plain {i_plain:,.0f}, full {i_full:,.0f} "
                f"({i_full / i_plain:.3f}x)"
            )
            say(f"  {i_line}")
            report.lines.append(i_line)
        report.goals.append(Goal(f"routing {title}, full/plain", full / plain, target, at_most=False))
        say(f"  {report.goals[-1].line()}")
    report.lines.append(
        f"host-cache miss, 1-query endpoint (full): {miss['sent']} round trips "
        f"(once per {settings.TENANT_CACHE_SECONDS} s per worker)"
    )
