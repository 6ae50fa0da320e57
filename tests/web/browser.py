"""Browser-test support: the real app under uvicorn on a loopback port, Debian's headless Chromium.

The app runs in a thread of the test process (uvicorn ``Server``) so it sees the same settings;
Chromium starts with a fresh profile and without any network service of its own.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,900",
    "--lang=zh-CN",
)


class AppServer:
    """The web app served by uvicorn in a background thread."""

    def __init__(self, app, port: int):
        import uvicorn

        self.port = port
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> AppServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


class Browser:
    """One headless Chromium with its own throw-away profile."""

    def __init__(self):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.profile = Path(tempfile.mkdtemp(prefix="zhaoshang-chromium-"))
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={self.profile}")
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.driver.set_page_load_timeout(30)

    def submit(self, element_id: str, timeout: float = 30) -> None:
        """Click a submit button and wait until the next page has replaced this one."""
        from selenium.webdriver.common.by import By

        self._click_then_wait(By.ID, element_id, timeout)

    def follow(self, css: str, timeout: float = 30) -> None:
        """Click a link and wait for the page it leads to."""
        from selenium.webdriver.common.by import By

        self._click_then_wait(By.CSS_SELECTOR, css, timeout)

    def _click_then_wait(self, by: str, target: str, timeout: float) -> None:
        # A mark on the old document: the new one does not have it. (Waiting for the old
        # element to go stale trips over Chromium's "node does not belong to the document".)
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver.execute_script("window.__zhaoshangOldPage = true")
        self.driver.find_element(by, target).click()
        WebDriverWait(self.driver, timeout, ignored_exceptions=(WebDriverException,)).until(
            lambda d: d.execute_script(
                "return window.__zhaoshangOldPage !== true && document.readyState === 'complete'"
            )
        )

    def close(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    def screenshot(self, path: Path, *, colors: int = 96) -> Path:
        """A full-width PNG, reduced to a small palette (README images stay well under 200 KB)."""
        from PIL import Image

        path.parent.mkdir(parents=True, exist_ok=True)
        raw = path.with_suffix(".raw.png")
        height = self.driver.execute_script("return document.body.scrollHeight")
        self.driver.set_window_size(1280, min(max(int(height) + 40, 600), 1600))
        self.driver.execute_script("window.scrollTo(0, 0)")
        self.driver.save_screenshot(str(raw))
        with Image.open(raw) as image:
            image.convert("RGB").quantize(colors=colors).save(path, optimize=True)
        raw.unlink()
        self.driver.set_window_size(1280, 900)
        return path
