"""Headless Chromium (Debian's `chromium` and `chromedriver`, installed by `tests/install-browser`) driven by
Selenium, for tests that open the report page the way a reader does."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("WIRECRAWL_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("WIRECRAWL_CHROMEDRIVER", "/usr/bin/chromedriver")
ARTIFACTS = Path(os.environ.get("WIRECRAWL_ARTIFACTS", Path(__file__).resolve().parent.parent / "test-artifacts"))
# The flags a closed network needs: no background connections, no component updates, a fresh profile.
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,1600")


@pytest.fixture(scope="session")
def chromium():
    """A Chromium WebDriver that records the page's console. Missing browser: the test fails, naming the
    install step (set WIRECRAWL_NO_BROWSER=1 to skip browser tests on a machine without one)."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        if os.environ.get("WIRECRAWL_NO_BROWSER") == "1":
            pytest.skip("WIRECRAWL_NO_BROWSER=1 and no Chromium here")
        pytest.fail(f"no {CHROMIUM} / {CHROMEDRIVER}: run tests/install-browser (Debian's chromium, chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="wirecrawl-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def console_errors(driver) -> list[dict]:
    """Console entries at error level since the last call (script errors, CSP violations, failed loads)."""
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def screenshot(driver, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    assert driver.save_screenshot(str(path)), f"no screenshot written to {path}"
    return path
