"""What the Chromium tests share."""


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
