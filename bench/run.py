"""Clearpath's endpoints at scale against a bare Flask floor, on the same database and server.

    python -m bench.run [--database sqlite|postgres|both] [--seconds 6] [--observations N]

For each database it makes sure the bench database holds at least N observations
(`bench.seed` builds it otherwise: minutes), starts gunicorn with the Procfile's web command
(WEB_CONCURRENCY workers × GUNICORN_THREADS threads) on 127.0.0.1, signs a rep and an HQ user
in through the login form (session cookie, CSRF token from the form) and issues the rep an API
token. Then wrk drives each endpoint for --seconds with as many connections as the server has
threads (throughput, p50/p95/p99), in three runs of a third each of which the fastest is kept
(a run whose connections mostly land on one worker serves slower), and for half
that with one connection (the latency a user meets when the server is not queueing). An
endpoint whose single request takes longer than a second is timed sequentially instead, a few
requests, so the run stays bounded.

The floor is `bench/bare.py` under the same gunicorn command: one INSERT, and one indexed
50-row SELECT rendered as HTML; and, shown beside the capture form's goal, a bare capture (the
same three rows a capture writes, in one transaction, without the app). Its server stays up
beside the app's, and each endpoint compared with it alternates its loaded runs with the
floor's, so that the ratio compares the best of each taken in the same minute (this machine's
speed drifts too much for a floor measured once).
Capture is compared with the bare insert per request, sync per observation (a request carries
50), the feed with the bare select. The table is printed and
written to bench/RESULTS.md with the machine, the load average and the data size.
"""

import argparse
import http.client
import http.cookiejar
import json
import os
import platform
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from bench import seed as seeding
from bench.load_sync import ROOT, Server, procfile_command, server_errors, sqlalchemy_url

RESULTS = Path(__file__).with_name("RESULTS.md")
SCRATCH = Path(tempfile.gettempdir()) / "clearpath-bench"
URLS = {"postgres": seeding.DEFAULT_URL,
        "sqlite": f"sqlite:///{SCRATCH / 'clearpath_bench.sqlite3'}"}
SYNC_ITEMS = 50
BARE_CAPTURE = "bare capture (a call, its barrier, its audit event)"
PROBE_TIMEOUT = 30  # seconds; an endpoint slower than this is reported, not measured
NOTES = ["prior auth keeps bouncing back for missing labs", "not on the EMR order set yet",
         "office manager swamped, asks for the hub number", "copay card questions at the desk",
         "formulary review next quarter", "wants the dosing schedule for elderly patients",
         "PA denied twice, step therapy through methotrexate first",
         "pt cant afford OOP, asks about PAP", "nurse unsure how to train on the pen injector"]
GOALS = "capture and sync ≥ 0.6 × bare insert; feed ≥ 0.6 × bare select; dashboard p95 < 150 ms " \
        "(1 connection, 1M); PDF p50 < 250 ms; suggestions p95 < 50 ms"


# Servers ---------------------------------------------------------------------------------------
class BenchServer(Server):
    """The Procfile's gunicorn for any WSGI app of this checkout, health-checked on `health`."""

    def __init__(self, database_url: str, log_path: Path, app: str = "app:app",
                 health: str = "/api/v1/openapi.json", secret: str = ""):
        super().__init__(database_url, log_path)
        self.app, self.health = app, health
        self.secret = secret or secrets.token_hex(16)  # the same across restarts: cookies hold

    def start(self, timeout: float = 60) -> "BenchServer":
        argv = [self.app if arg == "app:app" else arg for arg in procfile_command(self.port)]
        env = {**os.environ, "DATABASE_URL": self.database_url, "PYTHONUNBUFFERED": "1",
               "SECRET_KEY": self.secret,
               # One user drives the load here: the API's per-user limit would measure itself.
               "API_RATE_LIMIT": "1000000 per minute"}
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + self.health, timeout=5) as answer:
                    if answer.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"gunicorn did not answer in {timeout} s:\n{self.log_tail()}")


# What the requests need ---------------------------------------------------------------------------
@dataclass
class Fixture:
    observations: int
    links: int
    runs: int
    hcps: list[str]  # the rep's
    barriers: list[str]  # a mix a sales rep logs
    pdf_barrier: str
    brand: str
    deep_cursor: str
    picked_hcp: str = ""
    token: str = ""
    rep_cookie: str = ""
    rep_csrf: str = ""
    hq_cookie: str = ""


def count_observations(url: str) -> int | None:
    try:
        engine = create_engine(sqlalchemy_url(url))
        with engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM observation")).scalar()
    except Exception:
        return None
    finally:
        engine.dispose()


def upgrade_schema(url: str) -> None:
    from flask_migrate import upgrade

    from webapp import create_app

    with create_app({"SQLALCHEMY_DATABASE_URI": sqlalchemy_url(url)}).app_context():
        upgrade()


def ensure_seeded(urls: dict[str, str], observations: int, reseed: bool, logs: Path) -> list[str]:
    """Seed each bench database (name: URL) that holds fewer than `observations`, or all of
    them with `reseed`, bring the others to this checkout's migrations, and return the names of
    those seeded.

    The seeds run at the same time, each `bench.seed` in a process of its own (its output in
    `logs`): one seed keeps about one core busy, so on this two-core machine both together take
    little more than PostgreSQL's alone (the two one after the other: 150 + 210 s)."""
    seeding_now = {}
    for name, url in urls.items():
        found = None if reseed else count_observations(url)
        if found is not None and found >= observations:
            upgrade_schema(url)  # a database seeded by an older checkout gets this one's migrations
            continue
        print(f"seeding {observations} observations into {url} (found {found})", flush=True)
        log_path = logs / f"seed-{name}.log"
        with open(log_path, "wb") as log:
            seeding_now[name] = (log_path, subprocess.Popen(
                # The seed's own defaults (users, days, share of plays run, random seed), and
                # an HCP for every 50 calls.
                [sys.executable, "-m", "bench.seed", "--observations", str(observations),
                 "--hcps", str(max(1000, observations // 50)), "--database-url", url],
                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
    failed = []
    for name, (log_path, process) in seeding_now.items():
        process.wait()
        summary = next((line for line in log_path.read_text().splitlines()
                        if line.startswith("seeded ")), None)
        if process.returncode != 0 or summary is None:
            failed.append(f"{name} (exit {process.returncode}):\n"
                          + "\n".join(log_path.read_text().splitlines()[-15:]))
        else:
            print(f"  {name}: {summary}", flush=True)
    if failed:
        raise RuntimeError("seeding failed: " + "\n".join(failed))
    return list(seeding_now)


def fixture(url: str) -> Fixture:
    """Find the bench users, HCPs, a leave-behind and a deep cursor; issue the rep a token."""
    from webapp import create_app
    from webapp.auth.services import issue_token
    from webapp.extensions import db
    from webapp.models import HCP, Barrier, Brand, Observation, User
    from webapp.pagination import encode_cursor

    app = create_app({"SQLALCHEMY_DATABASE_URI": sqlalchemy_url(url)})
    with app.app_context():
        rep = db.session.scalar(db.select(User).where(User.email == seeding.REP_EMAIL))
        hcps = db.session.scalars(db.select(HCP.external_id).where(
            HCP.territory_id == rep.territory_id).order_by(HCP.id).limit(40)).all()
        # An HCP with an ordinary history to pick on the capture page: the bench's own captures
        # and syncs go to the first 40.
        picked = db.session.scalar(db.select(HCP.external_id).where(
            HCP.territory_id == rep.territory_id).order_by(HCP.id.desc()).limit(1))
        active = db.session.scalars(db.select(Barrier).where(Barrier.retired_at.is_(None))
                                    .order_by(Barrier.code)).all()
        own = [b.code for b in active if b.may_be_run_by("sales_rep")]
        other = [b.code for b in active if not b.may_be_run_by("sales_rep")]
        pdf = next(b.code for b in active if b.play and b.play.leave_behind)
        # The feed's own deep page: about half a year back, the cursor a user reaches by paging.
        middle = datetime.now(UTC) - timedelta(days=180)
        row = db.session.execute(
            db.select(Observation.received_at, Observation.id)
            .where(Observation.received_at < middle)
            .order_by(Observation.received_at.desc(), Observation.id.desc()).limit(1)).one()
        counts = {name: db.session.execute(text(f"SELECT count(*) FROM {name}")).scalar()
                  for name in ("observation", "observation_barrier", "play_run")}
        brand = db.session.scalar(db.select(Brand.code).order_by(Brand.id))
        token = issue_token(rep, label="bench")
        result = Fixture(observations=counts["observation"], links=counts["observation_barrier"],
                         runs=counts["play_run"], hcps=list(hcps),
                         barriers=own[:30] + other[:10], pdf_barrier=pdf, brand=brand,
                         deep_cursor=encode_cursor(*row), token=token, picked_hcp=picked)
        db.session.remove()
        db.engine.dispose()
    return result


def sign_in(base_url: str, email: str, password: str) -> tuple[str, str]:
    """Sign in through the form as a browser does: (Cookie header, CSRF token of the session)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base_url + "/login").read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    form = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": token,
                                   "next": ""}).encode()
    landing = opener.open(base_url + "/login", data=form).read().decode()
    if "Sign out" not in landing and "sign out" not in landing.lower():
        raise RuntimeError(f"sign-in as {email} failed")
    # The page after sign-in carries the new session's CSRF token (the old one was cleared).
    found = re.search(r'name="csrf_token" value="([^"]+)"', landing) or re.search(
        r'name="csrf-token" content="([^"]+)"', landing)
    if found is None:
        landing = opener.open(base_url + "/capture").read().decode()
        found = re.search(r'name="csrf_token" value="([^"]+)"', landing)
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return cookie, found[1] if found else ""


# wrk ---------------------------------------------------------------------------------------------
LUA_COMMON = r"""
local counter = 0
function uuid4()
  local r = math.random
  return string.format("%08x-%04x-4%03x-%x%03x-%04x%08x", r(0, 0x7fffffff), r(0, 0xffff),
    r(0, 0xfff), 8 + r(0, 3), r(0, 0xfff), r(0, 0xffff), r(0, 0x7fffffff))
end
local threads = 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
function init(args) math.randomseed(os.time() * 1000 + (tid or 0) * 7919 + os.clock() * 1e6) end
function pick(list) return list[math.random(#list)] end
function done(summary, latency, requests)
  io.write(string.format(
    'BENCHJSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d, "p50": %d, "p95": %d, "p99": %d}\n',
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def lua_list(values: list[str]) -> str:
    return "{" + ", ".join(json.dumps(v) for v in values) + "}"


def lua_get(headers: dict) -> str:
    lines = "\n".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items())
    return LUA_COMMON + lines + "\nwrk.method = 'GET'\n"


def lua_capture(f: Fixture) -> str:
    return LUA_COMMON + f"""
wrk.method = "POST"
wrk.headers["Cookie"] = {json.dumps(f.rep_cookie)}
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local hcps = {lua_list(f.hcps)}
local barriers = {lua_list(f.barriers)}
local notes = {lua_list([urllib.parse.quote_plus(n) for n in NOTES])}
local csrf = {json.dumps(urllib.parse.quote_plus(f.rep_csrf))}
function request()
  local body = "csrf_token=" .. csrf .. "&id=" .. uuid4() .. "&hcp=" .. pick(hcps) ..
    "&barrier=" .. pick(barriers) .. "&note=" .. pick(notes) .. "&brand={f.brand}"
  return wrk.format(nil, nil, nil, body)
end
"""


def lua_sync(f: Fixture) -> str:
    return LUA_COMMON + f"""
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer {f.token}"
wrk.headers["Content-Type"] = "application/json"
local hcps = {lua_list(f.hcps)}
local barriers = {lua_list(f.barriers)}
local notes = {lua_list(NOTES)}
function request()
  local items = {{}}
  for i = 1, {SYNC_ITEMS} do
    local at = os.date("!%Y-%m-%dT%H:%M:%S+00:00", os.time() - math.random(120, 86400))
    items[i] = string.format('{{"id": "%s", "hcp": "%s", "barriers": ["%s"], "note": "%s", ' ..
      '"observed_at": "%s", "brand": "{f.brand}"}}', uuid4(), pick(hcps), pick(barriers),
      pick(notes), at)
  end
  return wrk.format(nil, nil, nil, '{{"observations": [' .. table.concat(items, ",") .. ']}}')
end
"""


def lua_suggest(f: Fixture) -> str:
    bodies = [json.dumps({"text": n}) for n in NOTES]
    return LUA_COMMON + f"""
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer {f.token}"
wrk.headers["Content-Type"] = "application/json"
local bodies = {lua_list(bodies)}
function request() return wrk.format(nil, nil, nil, pick(bodies)) end
"""


def lua_bare_insert() -> str:
    return LUA_COMMON + 'wrk.method = "POST"\nwrk.body = "x=1"\n' \
        'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'


def lua_bare_capture() -> str:
    return LUA_COMMON + f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local notes = {lua_list([urllib.parse.quote_plus(n) for n in NOTES])}
function request()
  return wrk.format(nil, nil, nil, "note=" .. pick(notes))
end
"""


@dataclass
class Endpoint:
    name: str
    path: str
    script: str
    baseline: str | None = None  # the bare row it is compared with (the goal's)
    items: int = 1  # observations per request (sync: per-item ratio)
    bare: bool = False
    probe_method: str = "GET"
    probe_headers: dict = field(default_factory=dict)
    probe_body: object = None  # bytes, or a callable making them (a fresh id per request)
    also: str | None = None  # a second bare row it is shown against, not a goal


@dataclass
class Measure:
    endpoint: Endpoint
    rps: float = 0.0
    p50: float = 0.0
    p95: float = 0.0
    p99: float = 0.0
    errors: int = 0
    requests: int = 0
    solo_p50: float = 0.0
    solo_p95: float = 0.0
    note: str = ""
    timed_out: bool = False
    # By floor, the best of its runs taken between this endpoint's own (none taken: the floor's
    # row stands in): a ratio compares runs of the same minute.
    floor_rps: dict[str, float] = field(default_factory=dict)


LOADED_RUNS = 3


def run_wrk(url: str, script: str, seconds: float, connections: int, workdir: Path) -> dict:
    path = workdir / f"script-{secrets.token_hex(4)}.lua"
    path.write_text(script)
    threads = min(2, connections)
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
         "--timeout", "30s", "-s", str(path), url],
        capture_output=True, text=True, timeout=seconds + 90)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("BENCHJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no summary:\n{out.stdout}\n{out.stderr}")
    return json.loads(line.removeprefix("BENCHJSON "))


def timed_request(base: str, e: Endpoint, timeout: float) -> tuple[int | None, float]:
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    started = time.perf_counter()
    try:
        body = e.probe_body() if callable(e.probe_body) else e.probe_body
        connection.request(e.probe_method, e.path, body, e.probe_headers)
        response = connection.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    except (OSError, http.client.HTTPException):
        return None, time.perf_counter() - started
    finally:
        connection.close()


def percentile_ms(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] * 1000 if ordered \
        else 0.0


def measure(base: str, e: Endpoint, seconds: float, connections: int, workdir: Path,
            floors: list[tuple[str, Endpoint]] = ()) -> Measure:
    """Throughput and latency of one endpoint; with `floors` (each its server's URL and
    endpoint), one run of each floor precedes each of the endpoint's loaded runs."""
    result = Measure(e)
    status, probe = timed_request(base, e, timeout=PROBE_TIMEOUT)  # also warms caches
    if status is None:
        result.errors = 1
        result.p50 = result.solo_p50 = probe * 1000
        result.note = f"no answer within {probe:.0f} s: not measured, server restarted"
        result.timed_out = True
        return result
    if status < 400 and probe > 1.0:  # a cold cache (per worker) or a slow endpoint: again
        status, probe = timed_request(base, e, timeout=PROBE_TIMEOUT)
        if status is None:
            result.errors = 1
            result.note = f"no answer within {probe:.0f} s: not measured, server restarted"
            result.timed_out = True
            return result
    if status >= 400:
        result.note = f"probe answered {status} in {probe:.1f} s"
    if probe > 1.0:
        # Too slow for a wrk window: time a few requests, one at a time, in a bounded span.
        timings, errors = [], 0
        deadline = time.monotonic() + max(seconds, 3 * probe)
        while time.monotonic() < deadline or len(timings) < 2:
            status, took = timed_request(base, e, timeout=PROBE_TIMEOUT)
            timings.append(took)
            errors += status is None or status >= 400
            if len(timings) >= 3 and time.monotonic() >= deadline:
                break
        result.requests, result.errors = len(timings), errors
        result.rps = len(timings) / sum(timings)
        result.p50 = result.solo_p50 = percentile_ms(timings, 0.5)
        result.p95 = result.solo_p95 = percentile_ms(timings, 0.95)
        result.p99 = percentile_ms(timings, 0.99)
        result.note = (result.note + "; " if result.note else "") + \
            f"slow: {len(timings)} sequential requests, not wrk"
        return result
    # Best of a few short runs, floor and app alike: the kernel spreads wrk's keep-alive
    # connections over the workers' sockets (the Procfile's --reuse-port) by a hash, and a run
    # that lands 7 of 8 on one worker is still slower. (Before --reuse-port the worker that woke
    # first took all 8 in 9 runs of 12, and one process, one GIL, served at half speed.)
    # The floor's runs alternate with the endpoint's: this machine's speed drifts by half or
    # more over a few minutes (the floor measured before and after the app once: 379 and 630
    # req/s), so a ratio to a floor measured minutes away is off by as much.
    span = max(1, seconds / LOADED_RUNS)
    runs, floor_rates = [], {floor.name: [] for _, floor in floors}
    for _ in range(LOADED_RUNS):
        for url, floor in floors:
            floor_rates[floor.name].append(_rate(run_wrk(url + floor.path, floor.script, span,
                                                         connections, workdir)))
        runs.append(run_wrk(base + e.path, e.script, span, connections, workdir))
    rates = [_rate(run) for run in runs]
    loaded = runs[rates.index(max(rates))]
    result.floor_rps = {name: max(found) for name, found in floor_rates.items()}
    solo = run_wrk(base + e.path, e.script, max(1, seconds / 2), 1, workdir)
    result.requests = loaded["requests"]
    result.rps = max(rates)
    result.p50, result.p95, result.p99 = (loaded[k] / 1000 for k in ("p50", "p95", "p99"))
    result.errors = sum(run[k] for run in runs
                        for k in ("connect", "read", "write", "status", "timeout"))
    if LOADED_RUNS > 1:
        result.note = "; ".join(filter(None, [
            result.note, "runs: " + ", ".join(f"{rate:.0f}" for rate in rates) + " req/s",
            *(f"{name}'s runs between them: " + ", ".join(f"{rate:.0f}" for rate in found)
              + " req/s" for name, found in floor_rates.items())]))
    result.solo_p50, result.solo_p95 = solo["p50"] / 1000, solo["p95"] / 1000
    return result


def _rate(run: dict) -> float:
    return run["requests"] / (run["duration_us"] / 1e6)


def endpoints(f: Fixture) -> list[Endpoint]:
    rep = {"Cookie": f.rep_cookie}
    hq = {"Cookie": f.hq_cookie}
    bearer = {"Authorization": f"Bearer {f.token}", "Content-Type": "application/json"}
    deep = "/feed?" + urllib.parse.urlencode({"before": f.deep_cursor, "category": "access",
                                              "brand": f.brand})
    pdf = f"/plays/{f.pdf_barrier}/leave-behind.pdf?hcp={f.hcps[0]}"

    def probe_sync():
        return json.dumps({"observations": [{
            "id": str(uuid.uuid4()), "hcp": f.hcps[0], "barriers": [f.barriers[0]],
            "observed_at": datetime.now(UTC).isoformat(timespec="seconds")}]}).encode()

    def probe_capture():
        return urllib.parse.urlencode({"csrf_token": f.rep_csrf, "id": str(uuid.uuid4()),
                                       "hcp": f.hcps[0], "barrier": f.barriers[0],
                                       "note": NOTES[1], "brand": f.brand}).encode()

    form = {**rep, "Content-Type": "application/x-www-form-urlencoded"}
    return [
        Endpoint("bare select (50 rows, HTML)", "/bare/select", lua_get({}), bare=True),
        Endpoint("bare insert", "/bare/insert", lua_bare_insert(), bare=True,
                 probe_method="POST", probe_body=b"x=1",
                 probe_headers={"Content-Type": "application/x-www-form-urlencoded"}),
        Endpoint(BARE_CAPTURE, "/bare/capture", lua_bare_capture(), bare=True,
                 probe_method="POST", probe_body=b"note=PA+denied+twice",
                 probe_headers={"Content-Type": "application/x-www-form-urlencoded"}),
        Endpoint("GET /login", "/login", lua_get({})),
        Endpoint("GET /feed (first page)", "/feed", lua_get(hq), "bare select (50 rows, HTML)",
                 probe_headers=hq),
        Endpoint("GET /feed deep page + category + brand", deep, lua_get(hq),
                 "bare select (50 rows, HTML)", probe_headers=hq),
        Endpoint("GET /dashboard (28 days)", "/dashboard", lua_get(hq), probe_headers=hq),
        Endpoint("POST /api/v1/suggestions", "/api/v1/suggestions", lua_suggest(f),
                 probe_method="POST", probe_headers=bearer,
                 probe_body=json.dumps({"text": NOTES[0]}).encode()),
        Endpoint("GET leave-behind PDF", pdf, lua_get(rep), probe_headers=rep),
        Endpoint("GET /capture (start page)", "/capture", lua_get(rep), probe_headers=rep),
        Endpoint("GET /capture?hcp= (HCP picked)", f"/capture?hcp={f.picked_hcp}", lua_get(rep),
                 probe_headers=rep),
        Endpoint("POST /capture (form)", "/capture", lua_capture(f), "bare insert",
                 probe_method="POST", probe_headers=form, probe_body=probe_capture,
                 also=BARE_CAPTURE),
        Endpoint(f"POST /api/v1/observations ({SYNC_ITEMS} items)", "/api/v1/observations",
                 lua_sync(f), "bare insert", items=SYNC_ITEMS, probe_method="POST",
                 probe_headers=bearer, probe_body=probe_sync),
    ]


# One database ------------------------------------------------------------------------------------
@dataclass
class DatabaseRun:
    database: str
    fixture: Fixture
    measures: list[Measure]
    load_before: tuple
    load_after: tuple
    seconds: float
    server_errors: list[str]


def run_database(database: str, url: str, seconds: float, connections: int,
                 workdir: Path, only: list[str] | None = None) -> DatabaseRun:
    started = time.monotonic()
    f = fixture(url)
    load_before = os.getloadavg()
    measures: list[Measure] = []
    log = workdir / f"gunicorn-{database}.log"
    plan = endpoints(f)

    # The floor's server stays up beside the app's (idle, it costs nothing): its runs alternate
    # with the runs of each endpoint compared with it.
    bare = BenchServer(url, workdir / f"bare-{database}.log", app="bench.bare:app",
                       health="/bare/health").start()
    server = None
    try:
        for e in (e for e in plan if e.bare):
            measures.append(measure(bare.url, e, seconds, connections, workdir))
            print(f"  {database}: {e.name} done", flush=True)
        floors = {e.name: (bare.url, e) for e in plan if e.bare}
        server = BenchServer(url, log).start()
        f.rep_cookie, f.rep_csrf = sign_in(server.url, seeding.REP_EMAIL, seeding.BENCH_PASSWORD)
        f.hq_cookie, _ = sign_in(server.url, seeding.HQ_EMAIL, seeding.BENCH_PASSWORD)
        for e in (e for e in endpoints(f) if not e.bare):
            if only and not any(word.lower() in e.name.lower() for word in only):
                continue
            measures.append(measure(server.url, e, seconds, connections, workdir,
                                    [floors[name] for name in (e.baseline, e.also) if name]))
            print(f"  {database}: {e.name} done", flush=True)
            if measures[-1].timed_out:  # its request still runs: do not let it skew the rest
                server.kill()
                # Same SECRET_KEY, so the sessions signed in above still hold.
                server = BenchServer(url, log, secret=server.secret).start()
    finally:
        if server is not None:
            server.stop()
        bare.stop()
    return DatabaseRun(database, f, measures, load_before, os.getloadavg(),
                       time.monotonic() - started, server_errors(server.log_text()))


# Reporting ---------------------------------------------------------------------------------------
HEADER = ("| endpoint | requests/s | p50 ms | p95 ms | p99 ms | errors | ratio to bare "
          "| 1-conn p50 ms | 1-conn p95 ms | note |\n"
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")


def ratio_to_floor(m: Measure, by_name: dict[str, Measure], floor: str | None = None
                   ) -> float | None:
    """The endpoint's throughput (per item) over a floor's (its goal's unless named), the
    floor's runs taken between its own where there are some; None with no such floor."""
    name = floor or m.endpoint.baseline
    base = by_name.get(name) if name else None
    rps = m.floor_rps.get(name) or (base.rps if base else 0.0)
    return m.rps * m.endpoint.items / rps if rps else None


def table(run: DatabaseRun) -> str:
    by_name = {m.endpoint.name: m for m in run.measures}
    lines = [HEADER]
    for m in run.measures:
        e = m.endpoint
        found = ratio_to_floor(m, by_name)
        ratio = "" if found is None else f"{found:.2f}"
        if found is not None and e.items > 1:
            ratio += f" (per item; {m.rps * e.items:.0f} items/s)"
        also = ratio_to_floor(m, by_name, e.also) if e.also else None
        if also is not None:
            ratio += f"; {also:.2f} × {e.also}"
        lines.append(f"| {e.name} | {m.rps:.1f} | {m.p50:.1f} | {m.p95:.1f} | {m.p99:.1f} "
                     f"| {m.errors} | {ratio} | {m.solo_p50:.1f} | {m.solo_p95:.1f} | {m.note} |")
    return "\n".join(lines)


def verdicts(run: DatabaseRun) -> list[str]:
    m = {x.endpoint.name: x for x in run.measures}
    out = []
    for x in run.measures:
        r = ratio_to_floor(x, m)
        if r is not None:
            also = ratio_to_floor(x, m, x.endpoint.also) if x.endpoint.also else None
            out.append(f"{'met' if r >= 0.6 else 'MISSED'}: {x.endpoint.name} at {r:.2f} × "
                       f"{x.endpoint.baseline} (goal ≥ 0.6)" + (
                           f"; {also:.2f} × {x.endpoint.also} (the same rows, no app; "
                           "not a goal)" if also is not None else ""))
    for name, goal, label in (("GET /dashboard (28 days)", 150, "p95"),
                              ("GET leave-behind PDF", 250, "p50"),
                              ("POST /api/v1/suggestions", 50, "p95")):
        if name not in m:
            continue
        x = m[name]
        if x.timed_out:
            out.append(f"MISSED: {name} gave no answer within {PROBE_TIMEOUT} s "
                       f"(goal {label} < {goal} ms)")
            continue
        value = x.solo_p95 if label == "p95" else x.solo_p50
        out.append(f"{'met' if value < goal else 'MISSED'}: {name} 1-connection {label} "
                   f"{value:.0f} ms (goal < {goal} ms)")
    return out


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor())
    mem = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), 0)
    return f"{os.cpu_count()} CPUs ({cpu}), {mem / 1024 / 1024:.0f} GB RAM, {platform.system()} " \
           f"{platform.release()}, Python {platform.python_version()}"


def report(runs: list[DatabaseRun], seconds: float, connections: int, seeding: float,
           total: float) -> str:
    workers = os.environ.get("WEB_CONCURRENCY", "2")
    threads = os.environ.get("GUNICORN_THREADS", "4")
    parts = [
        "# Performance at scale: latest run of `python -m bench.run`\n",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {machine()} (each database's load average before and after is below)",
        f"- server: the Procfile's gunicorn, {workers} workers × {threads} threads, on 127.0.0.1; "
        f"wrk with {connections} connections for {seconds:g} s per endpoint (the best of "
        f"{LOADED_RUNS} runs of {max(1, seconds / LOADED_RUNS):g} s), then 1 connection "
        f"for {max(1, seconds / 2):g} s",
        f"- goals: {GOALS}",
        f"- the whole run took {total:.0f} s ({total / 60:.1f} min; goal < 10 min), "
        + (f"{seeding:.0f} s of it seeding" if seeding else "on databases already seeded"),
        "",
    ]
    for run in runs:
        f = run.fixture
        parts += [
            f"## {run.database}\n",
            f"- data: {f.observations:,} observations, {f.links:,} observed barriers, "
            f"{f.runs:,} play runs (before the run's own writes)",
            f"- load average before / after: {' '.join(f'{x:.2f}' for x in run.load_before)} / "
            f"{' '.join(f'{x:.2f}' for x in run.load_after)}; run took {run.seconds:.0f} s",
            f"- server log: {len(run.server_errors)} error lines",
            "",
            table(run),
            "",
            *[f"- {line}" for line in verdicts(run)],
            "",
        ]
    return "\n".join(parts)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--seconds", type=float, default=6)
    parser.add_argument("--observations", type=int, default=1_000_000,
                        help="seed this many when the bench database holds fewer")
    parser.add_argument("--connections", type=int, default=None,
                        help="default: WEB_CONCURRENCY × GUNICORN_THREADS")
    parser.add_argument("--postgres-url", default=URLS["postgres"])
    parser.add_argument("--sqlite-url", default=URLS["sqlite"])
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")
    parser.add_argument("--only", action="append", metavar="WORDS",
                        help="measure only the endpoints whose name contains WORDS (and the "
                             "floor); repeatable; RESULTS.md is then left as it is")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        parser.error("wrk is needed: apt-get install wrk")
    connections = args.connections or (int(os.environ.get("WEB_CONCURRENCY", "2"))
                                       * int(os.environ.get("GUNICORN_THREADS", "4")))
    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    logs = SCRATCH / "logs"  # gunicorn logs and wrk scripts of the latest run
    logs.mkdir(parents=True, exist_ok=True)
    for old in logs.iterdir():
        old.unlink()
    print(f"gunicorn logs and wrk scripts: {logs}", flush=True)
    urls = {database: args.sqlite_url if database == "sqlite" else args.postgres_url
            for database in databases}
    if any(make_url(url).database == "test" for url in urls.values()):
        parser.error("the database named test belongs to the test suite")
    started = time.monotonic()
    seeded = ensure_seeded(urls, args.observations, args.reseed, logs)
    seeding = time.monotonic() - started if seeded else 0.0
    runs = []
    for database, url in urls.items():
        runs.append(run_database(database, url, args.seconds, connections, logs, args.only))
        print(f"\n## {database}\n\n{table(runs[-1])}\n", flush=True)
        for line in verdicts(runs[-1]):
            print(f"- {line}")
        for line in runs[-1].server_errors[:10]:
            print(f"server: {line}", file=sys.stderr)
    total = time.monotonic() - started
    print(f"\nthe whole run took {total:.0f} s, {seeding:.0f} s of it seeding", flush=True)
    text_ = report(runs, args.seconds, connections, seeding, total)
    if not (args.no_write or args.only):
        RESULTS.write_text(text_)
    return 0


if __name__ == "__main__":
    sys.exit(main())
