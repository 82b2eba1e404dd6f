"""The kinds of failure an adapter reports (their meaning: distribution.providers.adapter)."""

from enum import StrEnum


class ErrorKind(StrEnum):
    RETRYABLE = "retryable"
    THROTTLED = "throttled"
    FALLBACK = "fallback"
    PERMANENT = "permanent"
    ACCOUNT = "account"
