"""Swagger UI in a real headless Chromium against the live local server.

Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver) drive the page;
selenium is pointed at that driver so that it never downloads one. Set
OPSPLANE_SCREENSHOT=<file.png> to keep screenshots of the rendered page.

Deployed without a custom domain, API Gateway serves the API under its stage (`/api/...` for
Chalice's default stage name): a small proxy plays that part here.
"""

from __future__ import annotations

import http.client
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT_SECONDS = 60
# An authenticated operation: its 200 proves the token pasted into the Authorize dialog is sent.
OPERATION = "/api/v2/apitoken"


@pytest.fixture
def browser() -> Iterator[Any]:
    """A headless Chromium with a fresh profile and no background traffic."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if missing:
        # `make test` installs the browser first and sets OPSPLANE_REQUIRE_BROWSER=1: never skip there.
        message = f"{', '.join(missing)} missing: apt-get install chromium chromium-driver (or make browser)"
        if os.environ.get("OPSPLANE_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    profile = tempfile.mkdtemp(prefix="opsplane-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1400,2400",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def visible(driver: Any, css: str) -> Any:
    return WebDriverWait(driver, WAIT_SECONDS).until(ec.visibility_of_element_located((By.CSS_SELECTOR, css)))


def clickable(driver: Any, css: str, within: Any = None) -> Any:
    root = within or driver
    return WebDriverWait(driver, WAIT_SECONDS).until(lambda _: _enabled(root.find_elements(By.CSS_SELECTOR, css)))


def _enabled(elements: list[Any]) -> Any:
    return next((e for e in elements if e.is_displayed() and e.is_enabled()), False)


def click(driver: Any, element: Any) -> None:
    """Scroll an element into view and click it (the page is long)."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    element.click()


def operation(driver: Any, method: str, path: str) -> Any:
    """The rendered operation block of method + path."""
    css = f'.opblock-{method} .opblock-summary-path[data-path="{path}"]'
    summary_path = visible(driver, css)
    return summary_path.find_element(By.XPATH, "./ancestor::div[contains(@class, 'opblock ')]")


class StageProxy:
    """API Gateway's stage in front of the server: /<stage>/<path> goes to <path>, the rest is 404."""

    HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}

    def __init__(self, upstream: str, stage: str) -> None:
        self.upstream = urlsplit(upstream)
        self.stage = stage
        self.outside: list[str] = []  # paths asked for without the stage
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def forward(self) -> None:
                if not self.path.startswith(proxy.stage + "/"):
                    proxy.outside.append(self.path)
                    self.send_error(404)
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in proxy.HOP_BY_HOP}
                conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=30)
                try:
                    conn.request(self.command, self.path[len(proxy.stage) :], body=body, headers=headers)
                    answer = conn.getresponse()
                    data = answer.read()
                finally:
                    conn.close()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in proxy.HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = forward

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}{stage}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> StageProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


def try_operation(browser: Any, page_url: str, token: str, screenshot: str = "") -> None:
    """Open Swagger UI at page_url, authorize with token, try OPERATION out; assert its live 200."""
    # GIVEN Swagger UI served by the app, its assets bundled (nothing else is reachable)
    browser.get(page_url)
    # WHEN it has rendered the document's operations
    block = operation(browser, "get", OPERATION)
    assert browser.find_elements(By.CSS_SELECTOR, '.opblock-summary-path[data-path="/api/health"]')
    assert "opsplane API" in browser.find_element(By.CSS_SELECTOR, ".info .title").text
    if screenshot:
        browser.save_screenshot(screenshot)

    # AND the user pastes a token into the bearer field of the Authorize dialog
    click(browser, clickable(browser, ".scheme-container button.authorize"))
    modal = visible(browser, ".modal-ux")
    bearer = modal.find_element(By.CSS_SELECTOR, 'input[aria-label="auth-bearer-value"]')
    bearer.send_keys(token)
    click(browser, modal.find_element(By.CSS_SELECTOR, "button.modal-btn.authorize"))
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda _: modal.find_elements(By.XPATH, ".//button[normalize-space()='Logout']")
    )
    assert "Authorized" in modal.text
    click(browser, modal.find_element(By.CSS_SELECTOR, "button.close-modal"))

    # AND tries the operation out
    click(browser, block.find_element(By.CSS_SELECTOR, ".opblock-summary"))
    click(browser, clickable(browser, "button.try-out__btn", within=block))
    click(browser, clickable(browser, "button.execute", within=block))

    # THEN the live answer of the server is shown: 200, in the native envelope
    status = WebDriverWait(browser, WAIT_SECONDS).until(
        lambda _: _enabled(
            block.find_elements(By.CSS_SELECTOR, ".live-responses-table tr.response .response-col_status")
        )
    )
    body = block.find_element(By.CSS_SELECTOR, ".live-responses-table tr.response .response-col_description").text
    assert status.text.strip() == "200", body
    assert '"result": "OK"' in body
    assert "Authorization: Bearer " in block.find_element(By.CSS_SELECTOR, ".curl-command").text
    # AND every script, style and icon loaded from the app itself
    failures = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not failures, failures
    if screenshot:
        browser.save_screenshot(screenshot.replace(".png", "-tried.png"))


def test_can_try_an_authenticated_operation_from_swagger_ui(server, admin_token, browser):
    try_operation(browser, server.url + "/api-docs/ui/", admin_token, os.environ.get("OPSPLANE_SCREENSHOT", ""))


def test_can_use_swagger_ui_behind_an_api_gateway_stage(server, admin_token, browser):
    # GIVEN the API behind a stage named "api", like every path of the API itself begins
    with StageProxy(server.url, "/api") as stage:
        # WHEN the page is opened there (without its trailing slash) and an operation tried
        try_operation(browser, stage.url + "/api-docs/ui", admin_token)
    # THEN the page, its assets, the document and the call all went through the stage
    assert stage.outside == []
