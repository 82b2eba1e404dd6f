"""The URLconf as (route, view) pairs, for tests that sweep every route."""

from django.urls import URLPattern, URLResolver, get_resolver


def url_routes():
    """(full route as written in the URLconf, its callback) for every pattern."""

    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern), pattern.callback

    yield from walk(get_resolver().url_patterns, "")


def view_class_of(callback):
    return getattr(callback, "cls", None) or getattr(callback, "view_class", None)
