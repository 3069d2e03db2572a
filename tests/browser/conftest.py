"""Headless Chromium through Playwright's sync API, for the tests in this folder only.

Playwright's sync API runs an asyncio event loop in the test thread, and Django refuses ORM
calls from a thread with a running loop (SynchronousOnlyOperation). The browser tests are
synchronous code that only shares the thread with that loop, so they (and only they) lift
the guard with DJANGO_ALLOW_ASYNC_UNSAFE; every other test runs with it on (tests/env.py).
"""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        pytest.fail(f"Chromium not found at {path}: install Debian's chromium package (make test does)")
    return path


@pytest.fixture(scope="module")
def _allow_orm_beside_playwright():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="module")
def chromium(_allow_orm_beside_playwright):
    """One Chromium per module (starting it is the slow part); each test gets a fresh context."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium, _allow_orm_beside_playwright):
    """A page in a new browser context: no cookies or storage left from another test."""
    context = chromium.new_context(viewport={"width": 1300, "height": 900})
    yield context.new_page()
    context.close()
