"""What the Chromium tests share: Debian's Chromium launched as they all launch it, a context
that loads only what a test allows, the login page filled in, and the Content-Security-Policy
violations a page reports."""

import contextlib

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]
# The login form's button, by the language picked on the login page.
LOG_IN_BUTTON = {"en": "Log in", "fr": "Connexion"}


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@contextlib.contextmanager
def chromium():
    """Headless Chromium, in a Playwright of its own, for the `with` block."""
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


def allowlisted_context(browser, allowed_prefix):
    """A context that loads only URLs under `allowed_prefix`, and records what it asked
    (`context.requested`)."""
    context = browser.new_context()
    context.requested = []

    def route(request_route):
        url = request_route.request.url
        context.requested.append(url)
        if url.startswith(allowed_prefix):
            request_route.continue_()
        else:
            request_route.abort()

    context.route("**/*", route)
    return context


def log_in(page, base_url, username, *, language="en", password="terrain-2025"):
    """Logs in through the login page, its language picked first."""
    page.goto(f"{base_url}/login/")
    with page.expect_navigation():
        page.locator(f"button[name=language][value={language}]").click()
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.get_by_role("button", name=LOG_IN_BUTTON[language]).click()


def csp_violations(page):
    """A list that fills with every Content-Security-Policy violation Chromium reports on
    `page` (it logs each one to the console, with where it happened), across navigations."""
    found = []

    def note(message):
        if "Content Security Policy" in message.text:
            where = message.location
            found.append(f"{where.get('url')}:{where.get('lineNumber')}: {message.text}")

    page.on("console", note)
    return found
