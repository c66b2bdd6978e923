"""Error pages: JSON under /api/ (the API's one error format), the admin's look everywhere else.

Django calls these with DEBUG off (handler400, handler403, handler404, handler500 in config/urls.py). The 400
and 500 pages build no admin context and run no context processor (the user behind a session cookie is a
database read): the host may be one Django refuses, or the database may be down.
"""

from django.contrib import admin
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from eventstore.web.errors import error_body

PAGES = {
    400: ("bad_request", _("400 Bad request"),
          _("The request could not be understood (check the address and the host name).")),
    403: ("permission_denied", _("403 Forbidden"), _("You are not allowed to see this page.")),
    404: ("not_found", _("404 Page not found"), _("There is nothing at this address.")),
    500: ("server_error", _("500 Something went wrong"), _("The error was logged; please try again in a moment.")),
}


def _answer(request, status: int):
    code, title, message = PAGES[status]
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(status, code, str(message)), status=status)
    context = {"site_header": admin.site.site_header, "site_title": admin.site.site_title,
               "title": title, "message": message, "status": status}
    if status in (403, 404):
        return render(request, "error_page.html", {**admin.site.each_context(request), **context}, status=status)
    # A 400 may be a host Django refuses, a 500 a database down: the page depends on neither.
    return HttpResponse(render_to_string("error_page.html", context), status=status)


def bad_request(request, exception=None):
    return _answer(request, 400)


def permission_denied(request, exception=None):
    return _answer(request, 403)


def page_not_found(request, exception=None):
    return _answer(request, 404)


def server_error(request):
    return _answer(request, 500)
