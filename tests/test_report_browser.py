"""The HTML report in a real headless browser (Debian's chromium).

The page is opened through the Chrome DevTools Protocol, spoken over the pipe chromium offers
with ``--remote-debugging-pipe`` (file descriptors 3 and 4, NUL-terminated JSON): no driver, no
downloaded browser, no Python package beyond the standard library. The test checks that the
page loads with no console error or exception, that every figure is decoded and shown
(``naturalWidth > 0``, laid out with a width), and that the variants table has one row per
variant. It runs on a report made here from hand-made runs, and on every committed reference
report under ``reports/``.

``.ci/run`` installs chromium when it is missing. Without chromium the test is skipped, except
in CI (``CI=true``), where it fails.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from gridsim.app import cli
from gridsim.experiments.report import build_report

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-default-apps", "--remote-debugging-pipe")


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        exe = shutil.which(name)
        if exe:
            return exe
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("CI: chromium is missing (.ci/run installs it with apt-get)")
    pytest.skip("chromium is not installed (apt-get install chromium)")


def _high(fd: int) -> int:
    """A duplicate of ``fd`` numbered 10 or more (the original is closed)."""
    import fcntl

    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return high


class DevTools:
    """A headless chromium driven over its DevTools pipe."""

    def __init__(self, exe: str, profile: Path) -> None:
        to_chrome_r, self._w = os.pipe()
        self._r, from_chrome_w = os.pipe()
        # the browser's ends at 10 and above, so that moving them to 3 and 4 cannot clobber
        to_chrome_r, from_chrome_w = (_high(fd) for fd in (to_chrome_r, from_chrome_w))
        profile.mkdir(parents=True, exist_ok=True)
        self._log_path = profile / "chromium.log"  # a file: its dbus chatter cannot block it
        self._log = open(self._log_path, "wb")  # closed in close()
        # chromium reads commands on fd 3 and writes replies on fd 4: bash puts them there
        self.proc = subprocess.Popen(
            ["bash", "-c", f'exec "$0" "$@" 3<&{to_chrome_r} 4>&{from_chrome_w}', exe, *FLAGS,
             f"--user-data-dir={profile}", "about:blank"],
            pass_fds=(to_chrome_r, from_chrome_w), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=self._log, start_new_session=True)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict[str, Any]] = []

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("chromium did not answer")
            ready, _, _ = select.select([self._r], [], [], left)
            if ready:
                chunk = os.read(self._r, 1 << 16)
                if not chunk:
                    err = self._log_path.read_text(errors="replace")
                    raise RuntimeError(f"chromium closed the pipe: {err[-2000:]}")
                self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        msg = json.loads(raw)
        assert isinstance(msg, dict)
        return msg

    def send(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None, timeout: float = 30.0) -> dict[str, Any]:
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result = reply.get("result", {})
                assert isinstance(result, dict)
                return result
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30.0) -> dict[str, Any]:
        for e in self.events:
            if e.get("method") == method:
                return e
        deadline = time.monotonic() + timeout
        while True:
            e = self._read_message(deadline)
            self.events.append(e)
            if e.get("method") == method:
                return e

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)  # its own process group: only this browser
            self.proc.wait()
        os.close(self._w)
        os.close(self._r)
        self._log.close()


PAGE_STATE = """JSON.stringify({
  title: document.title,
  images: [...document.images].map(i => ({complete: i.complete, w: i.naturalWidth,
                                          shown: i.getBoundingClientRect().width})),
  variantRows: document.querySelectorAll("table.variants tbody tr").length,
  variantCells: [...document.querySelectorAll("table.variants tbody tr")]
                  .map(r => r.cells[0].textContent),
})"""


def open_page(html: Path, profile: Path) -> tuple[dict[str, Any], list[str]]:
    """Load ``html`` in headless chromium: ``(page state, console errors)``."""
    browser = DevTools(chromium(), profile)
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget",
                               {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            browser.send(f"{domain}.enable", session=session)
        browser.send("Page.navigate", {"url": html.resolve().as_uri()}, session=session)
        browser.wait_for("Page.loadEventFired")
        state = json.loads(browser.send("Runtime.evaluate",
                                        {"expression": PAGE_STATE, "returnByValue": True},
                                        session=session)["result"]["value"])
        errors = []
        for e in browser.events:
            p = e.get("params", {})
            if e.get("method") == "Runtime.exceptionThrown":
                errors.append(json.dumps(p.get("exceptionDetails", {}))[:500])
            elif e.get("method") == "Runtime.consoleAPICalled" and p.get("type") in (
                    "error", "assert"):
                errors.append(json.dumps(p.get("args", []))[:500])
            elif e.get("method") == "Log.entryAdded" and p.get("entry", {}).get("level") == \
                    "error":
                errors.append(p["entry"].get("text", "")[:500])
        return state, errors
    finally:
        browser.close()


def check_page(html: Path, profile: Path, variants: int, figures: int) -> dict[str, Any]:
    """Open the page; check it loads without errors, shows every figure and has one row per
    variant; its state."""
    state, errors = open_page(html, profile)
    assert not errors, f"{html}: console errors: {errors}"
    assert len(state["images"]) == figures, state
    for i, img in enumerate(state["images"]):
        assert img["complete"] and img["w"] > 0, f"{html}: figure {i} not decoded: {img}"
        assert img["shown"] > 0, f"{html}: figure {i} not shown: {img}"
    assert state["variantRows"] == variants, state
    return state


def test_html_report_loads_shows_every_figure_and_one_row_per_variant(tmp_path: Path) -> None:
    from test_report import make_sweep  # hand-made runs of known numbers

    chromium()
    sweep = make_sweep(tmp_path / "sweep")
    assert cli.main(["report", str(sweep), "--out", str(tmp_path / "report")]) == 0
    rep = build_report(sweep)
    figures = len(list((tmp_path / "report" / "figures").glob("*.png")))
    assert figures == 3
    state = check_page(tmp_path / "report" / "report.html", tmp_path / "profile",
                       variants=len(rep.variants), figures=figures)
    assert state["variantCells"] == ["1", "2", "4"]  # grid workers per grid


COMMITTED = sorted((ROOT / "reports").glob("*/report.html"))


@pytest.mark.parametrize("html", COMMITTED, ids=[p.parent.name for p in COMMITTED])
def test_committed_reference_report_loads_in_the_browser(html: Path, tmp_path: Path) -> None:
    import pandas as pd

    chromium()
    variants = pd.read_csv(html.parent / "statistics.csv")["variant"].nunique()
    figures = len(list((html.parent / "figures").glob("*.png")))
    check_page(html, tmp_path / "profile", variants=variants, figures=figures)


def test_the_check_catches_a_broken_page(tmp_path: Path) -> None:
    """A console error, a figure that does not decode and a missing row are all noticed."""
    chromium()
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><html><head><meta charset="utf-8"><title>x</title></head>'
                    '<body><img src="data:image/png;base64,AAAA"/>'
                    '<table class="variants"><tbody><tr><td>a</td></tr></tbody></table>'
                    '<script>console.error("boom")</script></body></html>', encoding="utf-8")
    state, errors = open_page(page, tmp_path / "profile")
    assert any("boom" in e for e in errors), errors
    assert state["images"][0]["w"] == 0
    with pytest.raises(AssertionError):
        check_page(page, tmp_path / "profile2", variants=2, figures=1)
