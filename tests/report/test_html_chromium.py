"""report.html renders in headless Chromium: the leaderboard is there and every image loads."""

import re
import shutil
import subprocess

import pytest

from ganeval.report import build_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PROBE = """<script>
window.addEventListener('load', () => {
  const imgs = Array.from(document.images);
  const ok = imgs.filter(i => i.complete && i.naturalWidth > 0).length;
  const rows = document.querySelectorAll('#leaderboard tbody tr').length;
  document.body.setAttribute('data-probe', imgs.length + ':' + ok + ':' + rows);
});
</script></body>"""


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (Debian package chromium)")
def test_report_html_renders_in_chromium(small_few, tmp_path):
    d, _, _ = small_few
    build_report(d / "spec.toml", d / "out")
    page = (d / "out" / "report.html").read_text()
    probe = d / "probe.html"
    probe.write_text(page.replace("</body>", PROBE))
    profile = tmp_path / "chromium-profile"
    proc = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    m = re.search(r'data-probe="(\d+):(\d+):(\d+)"', proc.stdout)
    assert m, proc.stdout[:500]
    n_img, n_ok, n_rows = map(int, m.groups())
    n_figs = len(list((d / "out" / "figures").glob("*.png")))
    assert n_img == n_figs and n_ok == n_img and n_img > 0
    assert n_rows == 2  # "same" and "shifted"
    assert "<th>candidate</th>" in proc.stdout and "lower is better" in proc.stdout
