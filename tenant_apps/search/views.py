"""``/search/``: the form (GET) and its results (POST).

Search terms travel only in POST bodies: never in a URL, a link or a redirect
(URLs end up in logs, browser history and Referer headers). So there is no
POST-redirect-GET here: the POST answers with the results page itself, and
every page is ``Cache-Control: no-store`` (``SecurityHeadersMiddleware``). A GET
never searches, whatever its query string says.
"""

from __future__ import annotations

from django.shortcuts import render

from concord.pages import GET_POST
from tenant_apps.accounts.readlimits import SEARCH, read_limited
from tenant_apps.search.forms import SearchForm
from tenant_apps.search.selectors import LIMIT, current_postcode
from tenant_apps.search.services import search_run


@GET_POST
@read_limited(SEARCH, methods=("POST",))
def search(request):
    results = None
    if request.method == "POST":
        form = SearchForm(request.POST)
        if form.is_valid():
            results = search_run(
                user=request.user,
                request=request,
                query=form.cleaned_data["query"],
                date_of_birth=form.cleaned_data["date_of_birth"],
            )
            for profile in results.profiles:
                profile.current_postcode = current_postcode(profile)
    else:
        form = SearchForm()  # request.GET is ignored on purpose
    return render(request, "search/search.html", {"form": form, "results": results, "limit": LIMIT})
