from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def home(request):
    return render(request, "home.html")


def public_home(request):
    return render(request, "public_home.html")


def not_found(request, exception=None):
    return render(request, "404.html", status=404)
