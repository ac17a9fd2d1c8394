"""Lighthouse 12 (mobile) on the capture and feed pages, and what a first and a repeat load cost.

    python -m bench.lighthouse [--runs 3]

Loads the demo data into a scratch SQLite database, starts the Procfile's gunicorn on it, signs
in as the demo rep and as HQ, and runs Lighthouse 12 from npm (installed on first use under
`bench/.lighthouse/`, with Debian's Chromium: CHROME_PATH=/usr/bin/chromium) on /capture and
/feed with its default mobile settings (a mid-range phone on a slow 4G link, simulated). Each
page is run `--runs` times and the median score kept. It also reports the bytes a first load
transfers (Lighthouse's total byte weight, compressed) and how many requests a repeat load
makes. The table is printed and written to `bench/LIGHTHOUSE.md`. Goals: performance ≥ 95,
accessibility 100, best practices ≥ 95, first load ≤ 150 KB.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench.load_sync import ROOT
from bench.run import BenchServer, sign_in

HERE = Path(__file__).resolve().parent
TOOLS = HERE / ".lighthouse"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "lighthouse-bench-1234"
PAGES = [("/capture", "sales.rep@demo.clearpath.test"), ("/feed", "hq.brand@demo.clearpath.test")]
CATEGORIES = ("performance", "accessibility", "best-practices")
CHROME_FLAGS = ("--headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run "
                "--disable-background-networking --disable-component-update --disable-sync")


def lighthouse_binary() -> Path:
    binary = TOOLS / "node_modules" / ".bin" / "lighthouse"
    if not binary.exists():
        TOOLS.mkdir(exist_ok=True)
        (TOOLS / "package.json").write_text('{"private": true}\n')
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "lighthouse@12"],
                       cwd=TOOLS, check=True)
    return binary


def demo_database(path: Path) -> str:
    """A fresh SQLite database with the demo data and known passwords for the two sign-ins."""
    path.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"], cwd=ROOT,
                   env=env, check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "demo", "load"], cwd=ROOT,
                   env=env, check=True, capture_output=True)
    from webapp import create_app
    from webapp.extensions import db
    from webapp.models import User

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        for _, email in PAGES:
            db.session.scalar(db.select(User).where(User.email == email)).set_password(PASSWORD)
        db.session.commit()
    return url


def audit(binary: Path, url: str, cookie: str, out: Path, attempts: int = 3) -> dict:
    """One Lighthouse run; Chromium's trace is sometimes lost (NO_NAVSTART): that run is
    repeated, up to `attempts` times."""
    for attempt in range(attempts):
        done = subprocess.run(
            [str(binary), url, "--quiet", "--output=json", f"--output-path={out}",
             f"--only-categories={','.join(CATEGORIES)}", f"--chrome-flags={CHROME_FLAGS}",
             f"--extra-headers={json.dumps({'Cookie': cookie})}"],
            env={**os.environ, "CHROME_PATH": CHROMIUM}, timeout=180, capture_output=True,
            text=True)
        report = json.loads(out.read_text()) if out.exists() else {}
        if done.returncode == 0 and not report.get("runtimeError"):
            break
        print(f"  {url}: attempt {attempt + 1} failed "
              f"({report.get('runtimeError', {}).get('code') or done.stderr[-300:]})", flush=True)
    else:
        raise RuntimeError(f"Lighthouse failed {attempts} times on {url}")
    scores = {c: round(report["categories"][c]["score"] * 100) for c in CATEGORIES}
    audits = report["audits"]
    return {**scores,
            "kb": audits["total-byte-weight"]["numericValue"] / 1024,
            "requests": len(audits["network-requests"]["details"]["items"]),
            "lcp": audits["largest-contentful-paint"]["numericValue"],
            "failed": sorted(a["id"] for a in audits.values()
                             if a.get("score") is not None and a["score"] < 0.9
                             and a.get("scoreDisplayMode") in ("binary", "numeric"))}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    binary = lighthouse_binary()
    workdir = Path(tempfile.mkdtemp(prefix="clearpath-lighthouse-"))
    server = BenchServer(demo_database(workdir / "demo.sqlite3"), workdir / "gunicorn.log").start()
    rows = []
    try:
        for path, email in PAGES:
            cookie, _ = sign_in(server.url, email, PASSWORD)
            name = path.strip("/").replace("/", "-")
            runs = [audit(binary, server.url + path, cookie, workdir / f"{name}-{n}.json")
                    for n in range(args.runs)]
            median = {key: statistics.median(run[key] for run in runs)
                      for key in (*CATEGORIES, "kb", "requests", "lcp")}
            failed = sorted({name for run in runs for name in run["failed"]})
            rows.append((path, median, failed))
    finally:
        server.stop()
    lines = [
        "# Lighthouse 12, mobile: latest run of `python -m bench.lighthouse`", "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, Debian Chromium; median of {args.runs} runs",
        "- the Procfile's gunicorn on the demo data (SQLite); Lighthouse's default mobile "
        "profile (simulated slow 4G, 4× CPU slowdown)",
        "- goals: performance ≥ 95, accessibility 100, best practices ≥ 95, first load ≤ 150 KB",
        "",
        "| page | performance | accessibility | best practices | first load KB (compressed) "
        "| requests | LCP ms | audits under 90 |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for path, m, failed in rows:
        lines.append(f"| {path} | {m['performance']:.0f} | {m['accessibility']:.0f} "
                     f"| {m['best-practices']:.0f} | {m['kb']:.1f} | {m['requests']:.0f} "
                     f"| {m['lcp']:.0f} | {', '.join(failed) or '—'} |")
    text = "\n".join(lines) + "\n"
    print(text)
    (HERE / "LIGHTHOUSE.md").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
