"""A real browser for the console's tests: Debian's Chromium driven by
Playwright (``executable_path``: Playwright's own downloads are not used), and
axe-core, the accessibility checker, from npm (``tests/browser/package.json``).

Playwright's synchronous API does not run under eventlet's monkey-patching, so
the browser tests run in a pytest of their own without this package's plugin
(``make test`` runs both: ``pytest -p no:confide tests/browser``)."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

BROWSER_TESTS = Path(__file__).resolve().parents[4] / "tests" / "browser"
AXE = BROWSER_TESTS / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")


class BrowserMissing(RuntimeError):
    pass


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise BrowserMissing("Debian's chromium is not installed: bash infra/scripts/ensure-infra.sh "
                             "--with-deploy-tools installs it")
    return found


@contextlib.contextmanager
def chromium() -> Iterator:
    """A headless Chromium (Playwright's Browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True,
                                             args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            yield browser
        finally:
            browser.close()


def install_axe() -> Path:
    """axe-core from the npm registry, as package-lock.json pins it (once)."""
    if not AXE.is_file():
        npm = shutil.which("npm")
        if npm is None:
            raise BrowserMissing("npm is not installed: the accessibility checker (axe-core) comes from npm")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=BROWSER_TESTS, check=True)
    return AXE


def sign_in(page, base: str, username: str, password: str, then: str = "/console/") -> None:
    """Sign in at the console as a person does: the identity provider's page, its form, back to the console."""
    page.goto(f"{base}/auth/login?return_to={then}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}{then}*")


def accessibility_problems(page) -> list[dict]:
    """axe-core's serious and critical violations on the page as it stands
    (WCAG 2.1 A and AA, and best practices), each with the elements it found."""
    page.evaluate(install_axe().read_text())  # (as the browser's devtools would: the page's CSP stays on)
    result = page.evaluate("""async () => {
        const found = await axe.run(document, {runOnly: {type: "tag",
            values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}});
        return found.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                           nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5)}));
    }""")
    return [v for v in result if v["impact"] in SERIOUS]
