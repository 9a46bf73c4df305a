"""A headless chromium for tests, driven over the Chrome DevTools Protocol (shared helpers).

The page is opened through the DevTools protocol spoken over the pipe chromium offers with
``--remote-debugging-pipe`` (file descriptors 3 and 4, NUL-terminated JSON): no driver, no
downloaded browser, no Python package beyond the standard library.

``.ci/run`` installs chromium when it is missing. Without chromium a test that asks for it
(:func:`chromium`) is skipped, except in CI (``CI=true``), where it fails.

:func:`open_page` loads a page and returns its state and console errors; :class:`Page` keeps a
page open to evaluate JavaScript, wait for a condition and take screenshots.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

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


def open_page(html: Path, profile: Path, browser: DevTools | None = None
              ) -> tuple[dict[str, Any], list[str]]:
    """Load ``html`` in headless chromium: ``(page state, console errors)``. With ``browser``
    (a running :class:`DevTools`, e.g. one a module's tests share: chromium's start is most of
    a page's cost) the page opens in a new tab of it, closed afterwards."""
    own = browser is None
    if browser is None:
        browser = DevTools(chromium(), profile)
    seen = len(browser.events)
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget",
                               {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            browser.send(f"{domain}.enable", session=session)
        browser.send("Page.navigate", {"url": html.resolve().as_uri()}, session=session)
        while True:  # this tab's load (a shared browser's events hold earlier tabs' too)
            e = browser.wait_for("Page.loadEventFired")
            if e.get("sessionId") in (session, None):
                break
            browser.events.remove(e)
        state = json.loads(browser.send("Runtime.evaluate",
                                        {"expression": PAGE_STATE, "returnByValue": True},
                                        session=session)["result"]["value"])
        mine = [e for e in browser.events[seen:] if e.get("sessionId") in (session, None)]
        errors = console_errors(mine)
        if not own:
            browser.send("Target.closeTarget", {"targetId": target})
        return state, errors
    finally:
        if own:
            browser.close()


class Page:
    """One page open in a headless chromium (a context manager): evaluate JavaScript, wait for
    a condition, take a screenshot; ``errors`` lists the console errors and exceptions."""

    def __init__(self, html: Path, profile: Path, width: int = 1200, height: int = 900) -> None:
        self.browser = DevTools(chromium(), profile)
        try:
            target = self.browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            self.session = self.browser.send("Target.attachToTarget",
                                             {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log"):
                self.browser.send(f"{domain}.enable", session=self.session)
            self.browser.send("Emulation.setDeviceMetricsOverride",
                              {"width": width, "height": height, "deviceScaleFactor": 1,
                               "mobile": False}, session=self.session)
            self.browser.send("Page.navigate", {"url": html.resolve().as_uri()},
                              session=self.session)
            self.browser.wait_for("Page.loadEventFired")
        except BaseException:
            self.browser.close()
            raise

    def __enter__(self) -> Page:
        return self

    def __exit__(self, *exc: object) -> None:
        self.browser.close()

    def evaluate(self, expression: str, await_promise: bool = False) -> Any:
        """The value of a JavaScript expression (JSON-serialisable), awaited if asked."""
        reply = self.browser.send("Runtime.evaluate",
                                  {"expression": expression, "returnByValue": True,
                                   "awaitPromise": await_promise}, session=self.session)
        if "exceptionDetails" in reply:
            raise RuntimeError(f"{expression[:80]}: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def wait_until(self, expression: str, timeout: float = 20.0) -> Any:
        """Poll a JavaScript expression until it is truthy; its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"not true within {timeout} s: {expression}")
            time.sleep(0.1)

    def screenshot(self, path: Path, full_page: bool = False) -> Path:
        """A PNG of the page (the viewport, or the whole page) at ``path``, once its fonts are
        loaded and two frames drawn after that (a shot taken sooner may still show the
        fallback glyphs)."""
        self.evaluate("document.fonts.ready.then(() => new Promise(r => requestAnimationFrame("
                      "() => requestAnimationFrame(() => r(true)))))", await_promise=True)
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
            size = self.evaluate("[document.documentElement.scrollWidth,"
                                 " document.documentElement.scrollHeight]")
            params["clip"] = {"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1}
        data = self.browser.send("Page.captureScreenshot", params, session=self.session)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    @property
    def errors(self) -> list[str]:
        return console_errors(self.browser.events)


def console_errors(events: list[dict[str, Any]]) -> list[str]:
    """The console errors, exceptions and error log entries among DevTools ``events``."""
    errors = []
    for e in events:
        p = e.get("params", {})
        if e.get("method") == "Runtime.exceptionThrown":
            errors.append(json.dumps(p.get("exceptionDetails", {}))[:500])
        elif e.get("method") == "Runtime.consoleAPICalled" and p.get("type") in (
                "error", "assert"):
            errors.append(json.dumps(p.get("args", []))[:500])
        elif e.get("method") == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            errors.append(p["entry"].get("text", "")[:500])
    return errors
