"""What the serve tests share: the CLI's own output to compare with, a real `symgrad serve` on a free
loopback port, and headless Debian chromium driven by selenium (never a downloaded browser)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from paths import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
DOCS = ROOT / "docs"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1500,1100", "--force-device-scale-factor=1"]


def cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """`python -m symgrad ARGS` in the tree's root, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "symgrad", *args], input=stdin, capture_output=True, cwd=ROOT,
                          timeout=300)


class Server:
    """`symgrad serve --port 0 ...` in a subprocess; its URL read from the line it prints."""

    def __init__(self, *args: str):
        self.process = subprocess.Popen([sys.executable, "-m", "symgrad", "serve", "--port", "0", *args], cwd=ROOT,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if "http://" not in line:
            self.stop()
            raise AssertionError(f"symgrad serve printed {line!r}; stderr: {self.process.stderr.read()}")
        self.url = line.split()[2].rstrip("/")
        self.port = int(self.url.rsplit(":", 1)[1])

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream:
                stream.close()


def browser():
    """A headless chromium (Debian's, through Debian's chromedriver) with a fresh profile folder."""
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.fail("the browser tests need Debian's chromium and chromium-driver (.ci/run installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="symgrad-chromium-")
    for flag in CHROMIUM_FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.profile_folder = profile
    return driver


def close(driver) -> None:
    driver.quit()
    shutil.rmtree(driver.profile_folder, ignore_errors=True)


def wait(condition, seconds: float = 60.0, what: str = "the page"):
    """condition() until it is truthy (it is returned), else fail naming what was awaited."""
    end = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"waited {seconds:g} s for {what}")
        time.sleep(0.1)


def screenshot(driver, name: str) -> Path:
    path = DOCS / f"serve-{name}.png"
    driver.save_screenshot(str(path))
    return path
