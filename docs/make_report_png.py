"""Regenerate docs/report.png and the leaderboard beside it in docs/report.md.

Runs the example spec shipped with ganeval (``ganeval report --suite digits``, the same file
as examples/digits.toml), renders its report.html in headless Chromium (Debian package
``chromium``) and saves the top of the page as docs/report.png; the report's Markdown
leaderboard replaces the block between the ``report-png`` markers in docs/report.md, so the
picture and the numbers in the docs come from one run.

    python docs/make_report_png.py [--keep DIR]

About a minute on two CPU cores. tests/report/test_examples.py checks that the rows of the
fixed-input candidates in docs/report.md match a fresh run.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
BEGIN, END = "<!-- report-png:begin -->", "<!-- report-png:end -->"
WIDTH, HEIGHT = 1280, 1700


def screenshot(page: Path, out_png: Path, profile: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("error: headless Chromium not found (apt-get install chromium)")
    cmd = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        f"--window-size={WIDTH},{HEIGHT}",
        "--virtual-time-budget=5000",
        f"--screenshot={out_png}",
        page.as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    if proc.returncode != 0 or not out_png.is_file():
        sys.exit(f"error: chromium failed ({proc.returncode}): {proc.stderr[-1000:]}")


def update_markdown(md_path: Path, leaderboard: str) -> None:
    text = md_path.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        sys.exit(f"error: {md_path} has no {BEGIN} ... {END} block")
    block = f"{BEGIN}\n{leaderboard.strip()}\n{END}"
    md_path.write_text(
        re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _m: block, text, flags=re.S), encoding="utf-8"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", type=Path, default=None, help="write the report here (default: a temporary folder)")
    args = ap.parse_args()
    from ganeval.report import build_report
    from ganeval.report.suites import example_spec

    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp) / "r"
        build_report(example_spec("digits"), out, overwrite=args.keep is not None)
        screenshot(out / "report.html", DOCS / "report.png", Path(tmp) / "profile")
        md = (out / "report.md").read_text(encoding="utf-8")
        table = md.split("\n\n", 2)[2]  # drop the title and the real-data line
        update_markdown(DOCS / "report.md", table)
    print(f"wrote {DOCS / 'report.png'} and the leaderboard in {DOCS / 'report.md'}")


if __name__ == "__main__":
    main()
