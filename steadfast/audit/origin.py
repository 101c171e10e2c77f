"""Where the current action comes from (an IP address), set per request by middleware.

Services record audit entries without seeing the request; they read the origin from here.
"""

from contextvars import ContextVar

current_source: ContextVar[str] = ContextVar("audit_source", default="")


class AuditOriginMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_source.set(request.META.get("REMOTE_ADDR", "")[:45])
        try:
            return self.get_response(request)
        finally:
            current_source.reset(token)
