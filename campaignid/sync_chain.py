"""The innermost middleware: keeps Django's middleware chain synchronous under uvicorn.

Under ASGI, Django runs each middleware that can be asynchronous (every MiddlewareMixin) in
async mode, and each of their process_request/process_response then hops to the request's
thread and back: about twenty thread hops per request, most of the CPU of a webhook callback
(bench/webhooks.py). A synchronous-only middleware at the centre turns the whole chain
synchronous: one hop into the chain, one out. It changes no answer.
"""


class SyncChain:
    sync_capable = True
    async_capable = False

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)
