"""Error pages in the service's own look."""

from django.shortcuts import render


def forbidden(request, exception=None):
    return render(request, "errors/403.jinja", {"page_title": "No access"}, status=403)


def not_found(request, exception=None):
    return render(request, "errors/404.jinja", {"page_title": "Page not found"}, status=404)


def server_error(request):
    return render(request, "errors/500.jinja", {"page_title": "Something went wrong"}, status=500)
