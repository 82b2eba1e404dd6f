"""No secret in any log line.

Secrets travel in headers (API keys, provider and DHIS2 tokens) and, where a caller cannot
send a header, in URLs: a WebSocket's single-use `?ticket=`, the Orange receipt secret in
`/webhooks/orange/<secret>`. Access logs print URLs with their query strings, and an
exception's text can quote a URL or a header. `MaskSecrets` rewrites every record before it
is printed: secret-named query values, the Orange path segment, `Bearer`/`ApiToken`/`Basic`
credentials, header values named like credentials, and anything shaped like our API keys
(`cid_…`), a presigned S3 URL's signature and credential, and AWS-style access key ids become
`****`.

It sits on the loggers that print request lines themselves (uvicorn's, Django's request and
server loggers, RQ's worker log) and on the root logger's handlers, which every other record
reaches (`install`, called once Django configured logging).
"""

import functools
import logging
import re

from django.views.debug import SafeExceptionReporterFilter

MASK = "****"
_PATTERNS = (
    # ?ticket=…&token=… and other secret-named query or form values.
    (re.compile(
        r"(?i)([?&;](?:ticket|token|access_token|refresh_token|id_token|api_key|apikey|key|"
        r"secret|client_secret|password|signature|sig|x-amz-signature|x-amz-credential|"
        r"x-amz-security-token|awsaccesskeyid)=)[^&;#\s\"']+"
    ), rf"\g<1>{MASK}"),
    (re.compile(r"(/webhooks/orange/)[^/?#\s\"']+"), rf"\g<1>{MASK}"),
    # Authorization values, wherever they are quoted.
    (re.compile(r"(?i)\b(Bearer|ApiToken|Basic|Token)(\s+)[A-Za-z0-9._~+/=-]{6,}"),
     rf"\g<1>\g<2>{MASK}"),
    # Header dumps: "Authorization: …", "'X-API-Key': '…'".
    (re.compile(
        r"(?i)((?:authorization|x-api-key|x-api-token|cookie|set-cookie)['\"]?\s*[:=]\s*['\"]?)"
        r"(?!(?:Bearer|ApiToken|Basic|Token)\s)[^'\",\s}][^'\",}\n]*"
    ), rf"\g<1>{MASK}"),
    (re.compile(r"\bcid_[A-Za-z0-9_-]{16,}"), f"cid_{MASK}"),
    # AWS-style access key ids (a bucket's keys), should an error ever quote one.
    (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), MASK),
)
# Loggers whose own records carry request lines (a logger's filter sees only records logged
# on it, not those of its children).
REQUEST_LOGGERS = (
    "uvicorn", "uvicorn.access", "uvicorn.error", "django", "django.request", "django.server",
    "django.security", "django.channels.server", "daphne.server", "rq.worker", "rq.job",
)


# Access lines are masked argument by argument, and those arguments (a method, a path, an
# HTTP version) mostly repeat: short texts are masked once and remembered, which took six
# regular expressions per argument off every request.
SHORT_TEXT = 256


def mask(text):
    return _mask_short(text) if len(text) <= SHORT_TEXT else _mask(text)


@functools.lru_cache(maxsize=4096)
def _mask_short(text):
    return _mask(text)


def _mask(text):
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _masked(value):
    return mask(value) if isinstance(value, str) else value


class MaskSecrets(logging.Filter):
    def filter(self, record):
        if isinstance(record.msg, str):
            record.msg = mask(record.msg)
        # Masked argument by argument: uvicorn's access formatter unpacks the tuple.
        if isinstance(record.args, tuple):
            record.args = tuple(_masked(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _masked(v) for k, v in record.args.items()}
        if record.exc_info and not record.exc_text:
            # Rendered here so the formatter prints the masked traceback (it reuses exc_text).
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        return True


def install():
    """Idempotent: adds one MaskSecrets to each request logger and root handler."""
    targets = [logging.getLogger(name) for name in REQUEST_LOGGERS]
    targets += logging.getLogger().handlers
    for target in targets:
        if not any(isinstance(f, MaskSecrets) for f in target.filters):
            target.addFilter(MaskSecrets())


class ExceptionReporterFilter(SafeExceptionReporterFilter):
    """Error reports (mail to ADMINS, the DEBUG page) also hide the request's credential
    headers: Django's default list misses Authorization and our ticket."""

    hidden_settings = re.compile(
        "API|AUTHORIZATION|TOKEN|TICKET|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE", flags=re.I
    )
