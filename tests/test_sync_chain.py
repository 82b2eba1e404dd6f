"""Under uvicorn (ASGI) the middleware chain runs synchronously: one thread hop into it
instead of two per middleware (campaignid/sync_chain.py)."""

from asgiref.sync import AsyncToSync, SyncToAsync, iscoroutinefunction
from django.core.handlers.asgi import ASGIHandler


def chain(handler):
    """Each step of the ASGI handler's middleware chain, outermost first."""
    step, steps = handler._middleware_chain, []
    while step is not None:
        steps.append(step)
        if isinstance(step, SyncToAsync):
            step = step.func
        elif isinstance(step, AsyncToSync):
            step = step.awaitable
        else:
            step = getattr(step, "get_response", None)
    return steps


def test_under_asgi_every_middleware_runs_in_sync_mode():
    steps = chain(ASGIHandler())
    middlewares = [s for s in steps if hasattr(s, "get_response")
                   and not isinstance(s, (SyncToAsync, AsyncToSync))]
    assert len(middlewares) >= 10
    assert not [type(m).__name__ for m in middlewares if iscoroutinefunction(m)]

