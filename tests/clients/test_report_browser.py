"""A real browser opens the default run's ``report.html`` offline: headless Chromium.

Chromium comes from Debian's ``chromium`` package (``.ci/run`` installs it); the tests skip
only where it is absent. The browser runs with every network request sent to a dead proxy and
every host name unresolvable, so a page that needed the network would log a load error.
Console messages reach stderr through ``--enable-logging=stderr`` as ``CONSOLE`` lines (the
page itself logs nothing, so any such line is an error or a warning); every URL the browser
requested is in its net log (``--log-net-log``), where only Chromium's own service requests
(updates, time, spelling dictionaries) may appear.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
from PIL import Image

pytestmark = [pytest.mark.client, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian: chromium)")
#: offline: requests go to a closed local port, host names resolve to nothing
OFFLINE = ["--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND"]
WINDOW = (1000, 1400)  # px: the header, the map and its legend
BROWSER_TIMEOUT = 120  # s per browser call (a few seconds on an idle machine)
#: hosts of Chromium's own background requests (component updates, network time, dictionaries)
BROWSER_HOSTS = ("google.com", "googleapis.com", "gvt1.com", "gstatic.com")


def chromium(url: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    """Headless Chromium on ``url`` with ``args`` (screenshot or DOM dump), console on stderr."""
    return subprocess.run([CHROMIUM, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
                           "--disable-background-networking", f"--user-data-dir={profile}",
                           "--enable-logging=stderr", "--v=0", *OFFLINE, *args, url],
                          capture_output=True, text=True, timeout=BROWSER_TIMEOUT, check=False)


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def page_requests(net_log: Path) -> set[str]:
    """http(s) URLs in a Chromium net log other than the browser's own service requests."""
    urls = set(re.findall(r'"url":"(https?://[^"]*)"', net_log.read_text(errors="replace")))
    return {u for u in urls if not (urlparse(u).hostname or "").endswith(BROWSER_HOSTS)}


@pytest.fixture(scope="module")
def shot(default_run, tmp_path_factory):
    """Screenshot of the report and the browser's stderr."""
    tmp = tmp_path_factory.mktemp("browser")
    png = tmp / "report.png"
    proc = chromium((Path(default_run.out_dir) / "report.html").as_uri(), tmp / "profile",
                    f"--screenshot={png}", f"--window-size={WINDOW[0]},{WINDOW[1]}", f"--log-net-log={tmp / 'net.json'}")
    assert png.is_file(), proc.stderr[-2000:]
    return np.asarray(Image.open(png).convert("RGB")).astype(int), proc.stderr, page_requests(tmp / "net.json")


@needs_chromium
def test_report_opens_offline_without_console_errors(shot):
    _, stderr, requests = shot
    assert console_lines(stderr) == []
    assert requests == set()


@needs_chromium
def test_screenshot_is_not_blank(shot):
    pixels, _, _ = shot
    assert pixels.shape[:2] == (WINDOW[1], WINDOW[0])
    ink = (pixels < 235).any(axis=2)  # not white or near-white
    assert 0.05 < ink.mean() < 0.9
    assert pixels.std() > 20 and len(np.unique(pixels.reshape(-1, 3), axis=0)) > 100
    # the map is drawn: magma's dark purples and oranges (red well above blue, or deep purple)
    purple = (pixels[..., 2] > pixels[..., 1] + 40) & (pixels[..., 0] > pixels[..., 1] + 40)
    assert purple.sum() > 500


@needs_chromium
def test_the_script_ran_and_set_the_map(default_run, tmp_path):
    proc = chromium((Path(default_run.out_dir) / "report.html").as_uri(), tmp_path / "profile", "--dump-dom")
    assert '<body data-ready="yes">' in proc.stdout
    assert 'id="map-image" alt="map" src="data:image/png;base64,' in proc.stdout
    assert 'id="year-label">2024<' in proc.stdout


@needs_chromium
def test_the_harness_sees_console_errors_and_network_loads(tmp_path):
    """The same browser call reports a script error and a blocked network load."""
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><body><img src="http://example.org/x.png">'
                    "<script>undefinedFunction();</script></body></html>")
    proc = chromium(page.as_uri(), tmp_path / "profile", "--dump-dom", f"--log-net-log={tmp_path / 'net.json'}")
    assert any("undefinedFunction" in line for line in console_lines(proc.stderr))
    assert page_requests(tmp_path / "net.json") == {"http://example.org/x.png"}
