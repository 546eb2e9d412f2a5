"""Sign-in pages: password, second factor, enrolment, resets and sign-out."""

from __future__ import annotations

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from concord.pages import GET_POST, apply_errors
from tenant_apps.accounts import access, notices, passkeys, selectors, services
from tenant_apps.accounts.forms import (
    CodeForm,
    ConfirmItIsYouForm,
    EnrolForm,
    NewPasswordForm,
    PasskeyAddForm,
    PasskeyNameForm,
    PasswordChangeForm,
    ResetRequestForm,
    SignInForm,
)
from tenant_apps.accounts.tokens import invitation_tokens, reset_tokens

NEXT_KEY = "concord_next"


def _partnership_name(request) -> str:
    return getattr(request.tenant, "name", "Concord")


def _safe_next(request, candidate: str | None) -> str | None:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, {request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return None


def _remember_device(request, response):
    """After a full sign-in: the signed device cookie that makes this browser a trusted
    source for the user (README "Accounts"); host-only, like the session cookie."""
    response.set_cookie(
        settings.SIGN_IN_DEVICE_COOKIE_NAME,
        services.trusted_device_token(user=request.user),
        max_age=settings.SIGN_IN_DEVICE_COOKIE_DAYS * 86400,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


def _after_sign_in(request):
    if not services.is_verified(request.user):
        step = "accounts:two-factor" if services.has_second_factor(request.user) else "accounts:two-factor-setup"
        return redirect(step)
    return redirect(request.session.pop(NEXT_KEY, None) or reverse("home"))


@access.public
@never_cache
def sign_in(request):
    if request.user.is_authenticated:
        return _after_sign_in(request)
    next_url = _safe_next(request, request.GET.get("next") or request.POST.get("next"))
    form = SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.sign_in_with_password(
                request=request, email=form.cleaned_data["email"], password=form.cleaned_data["password"]
            )
        except services.SignInRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            if next_url:
                request.session[NEXT_KEY] = next_url
            return _after_sign_in(request)
    return render(request, "accounts/sign_in.html", {"form": form, "next": next_url or ""})


@access.password_only
@never_cache
def two_factor(request):
    """The second factor: a code from the app or a backup code, or (for a user who added one)
    a passkey: the page carries a fresh challenge for the user's passkeys on this host, and
    concord/passkeys.js posts the browser's answer back here as ``credential``."""
    if services.is_verified(request.user):
        return _after_sign_in(request)
    if not services.has_second_factor(request.user):
        return redirect("accounts:two-factor-setup")
    by_passkey = request.method == "POST" and "credential" in request.POST
    form = CodeForm(request.POST if request.method == "POST" and not by_passkey else None)
    passkey_error = ""
    if by_passkey or (request.method == "POST" and form.is_valid()):
        try:
            if by_passkey:
                services.verify_second_factor_passkey(request=request, credential=request.POST["credential"])
            else:
                services.verify_second_factor(request=request, token=form.cleaned_data["code"])
        except services.SignInRefused as refusal:
            if not request.user.is_authenticated:  # locked: signed out
                messages.error(request, str(refusal))
                return redirect("accounts:sign-in")
            if by_passkey:
                passkey_error = str(refusal)
            else:
                form.add_error("code", str(refusal))
        else:
            return _remember_device(request, _after_sign_in(request))
    options = passkeys.assertion_options(request=request) if passkeys.has_passkey(request.user) else None
    return render(
        request, "accounts/two_factor.html", {"form": form, "passkey_options": options, "passkey_error": passkey_error}
    )


@access.password_only
@never_cache
def two_factor_setup(request):
    """Enrol an authenticator app: an ``otpauth://`` link for the app on this phone, the same URI
    as a QR code, and the secret as text in groups of four, confirmed by a first code. The page
    holds the secret: it is never cached (``never_cache``, and the security headers' no-store)
    and neither the secret nor the URI is logged.

    A user who already has one and is verified may replace it after confirming it is them
    (password and a code, within ``REAUTH_SECONDS``); a password-only session may enrol only if
    the user has none, and after an admin's reset only once it opened the e-mailed link.
    """
    user = request.user
    if services.has_second_factor(user):
        if not services.is_verified(user):
            return redirect("accounts:two-factor")
        if not services.reauthentication_is_fresh(request):
            return _confirm_it_is_you_first(request)
    elif not services.enrolment_allowed(request=request):
        return render(request, "accounts/enrolment_link_sent.html", {"email": user.email})
    device = selectors.totp_enrolment_pending(user=user)
    if device is None or request.method == "GET":
        device = services.totp_enrolment_start(user=user)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.totp_enrolment_confirm(request=request, device=device, token=form.cleaned_data["code"])
        except services.SignInRefused as refusal:
            form.add_error("code", str(refusal))
        except services.ReauthenticationRequired:  # the window closed between the page and the code
            return _confirm_it_is_you_first(request)
        else:
            page = render(request, "accounts/backup_codes.html", {"codes": codes, "first_time": True})
            return _remember_device(request, page)
    uri = services.totp_provisioning_uri(device=device, partnership_name=_partnership_name(request))
    qr_svg = segno.make(uri, error="m").svg_inline(scale=5, dark="#0b0c0c", light="#ffffff")
    return render(
        request,
        "accounts/two_factor_setup.html",
        {"form": form, "qr_svg": qr_svg, "otpauth_uri": uri, "secret": services.totp_secret_text(device)},
    )


@never_cache
def backup_codes(request):
    """Issue a new set of backup codes (the old ones stop working), after confirming it is you."""
    if not services.reauthentication_is_fresh(request):
        return _confirm_it_is_you_first(request)
    if request.method == "POST":
        codes = services.backup_codes_regenerate(request=request)
        return render(request, "accounts/backup_codes.html", {"codes": codes, "first_time": False})
    return render(request, "accounts/backup_codes_confirm.html")


@require_GET
@never_cache
def security(request):
    """The account's sign-in and security page: password, authenticator app, backup codes left,
    and passkeys (name, added, last used; add, rename, remove)."""
    return render(request, "accounts/security.html", {"factors": selectors.second_factors(user=request.user)})


@GET_POST
@never_cache
def passkey_add(request):
    """Add a passkey: a name, then the browser creates it (concord/passkeys.js posts its answer
    with the name). Needs a factor besides passkeys and a fresh "confirm it is you"."""
    if not services.has_factor_besides_passkeys(request.user):
        return render(request, "accounts/passkey_not_yet.html")
    if not services.reauthentication_is_fresh(request):
        return _confirm_it_is_you_first(request)
    form = PasskeyAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            passkey = services.passkey_add(
                request=request, name=form.cleaned_data["name"], credential=form.cleaned_data["credential"]
            )
        except services.ReauthenticationRequired:
            return _confirm_it_is_you_first(request)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"Passkey “{passkey.name}” added. You can use it at your next sign-in.")
            return redirect("accounts:security")
    options = passkeys.registration_options(request=request)
    return render(request, "accounts/passkey_add.html", {"form": form, "passkey_options": options})


@GET_POST
@never_cache
def passkey_rename(request, passkey_id: int):
    passkey = passkeys.access_passkey(user=request.user, passkey_id=passkey_id)
    if not services.reauthentication_is_fresh(request):
        return _confirm_it_is_you_first(request)
    form = PasskeyNameForm(request.POST or None, initial={"name": passkey.name})
    if request.method == "POST" and form.is_valid():
        try:
            services.passkey_rename(request=request, passkey=passkey, name=form.cleaned_data["name"])
        except services.ReauthenticationRequired:
            return _confirm_it_is_you_first(request)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"Passkey renamed “{passkey.name}”.")
            return redirect("accounts:security")
    return render(request, "accounts/passkey_rename.html", {"form": form, "passkey": passkey})


@GET_POST
@never_cache
def passkey_remove(request, passkey_id: int):
    passkey = passkeys.access_passkey(user=request.user, passkey_id=passkey_id)
    if not services.reauthentication_is_fresh(request):
        return _confirm_it_is_you_first(request)
    if request.method == "POST":
        try:
            services.passkey_remove(request=request, passkey=passkey)
        except services.ReauthenticationRequired:
            return _confirm_it_is_you_first(request)
        messages.success(request, f"Passkey “{passkey.name}” removed. It no longer signs you in.")
        return redirect("accounts:security")
    return render(request, "accounts/passkey_remove.html", {"passkey": passkey})


def _confirm_it_is_you_first(request):
    """To the re-authentication page, coming back here (by GET) once it is done."""
    return redirect(f"{reverse('accounts:confirm-it-is-you')}?{urlencode({'next': request.path})}")


def _signed_out_by_a_wait(request, refusal):
    messages.error(request, str(refusal))
    return redirect("accounts:sign-in")


@GET_POST
@never_cache
def confirm_it_is_you(request):
    """Re-authentication before a change of a factor: the password and a current code.
    Failures count like failed sign-ins; once this source must wait, it is signed out."""
    next_url = _safe_next(request, request.GET.get("next") or request.POST.get("next")) or reverse("home")
    form = ConfirmItIsYouForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.reauthenticate(
                request=request, password=form.cleaned_data["password"], code=form.cleaned_data["code"]
            )
        except services.SignInRefused as refusal:
            if not request.user.is_authenticated:
                return _signed_out_by_a_wait(request, refusal)
            form.add_error(None, str(refusal))
        else:
            return redirect(next_url)
    minutes = max(1, settings.REAUTH_SECONDS // 60)
    return render(request, "accounts/confirm_it_is_you.html", {"form": form, "next": next_url, "minutes": minutes})


@GET_POST
@never_cache
def password_change(request):
    """Change the password: the current one, then the new one twice. Other sessions end."""
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_change(
                request=request,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password1"],
            )
        except services.SignInRefused as refusal:
            if not request.user.is_authenticated:
                return _signed_out_by_a_wait(request, refusal)
            form.add_error("old_password", str(refusal))
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Your password has been changed. You have been signed out on your other devices.")
            return redirect("home")
    return render(request, "accounts/password_change.html", {"form": form})


@access.public
@never_cache
def enrolment_link(request, uidb64, token):
    """The single-use link e-mailed after an admin's reset: remembered in this session, then
    the password (if not given yet) and the enrolment page."""
    user = services.enrolment_link_open(request=request, uidb64=uidb64, token=token)
    if user is None:
        return render(request, "accounts/enrolment_link_invalid.html", status=200)
    if request.user.is_authenticated:
        return redirect("accounts:two-factor-setup")
    messages.info(request, "Sign in with your password, then set up your new authenticator app.")
    return redirect("accounts:sign-in")


@access.password_only
@require_POST
def enrolment_link_resend(request):
    try:
        services.enrolment_link_resend(request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"We have e-mailed a new link to {request.user.email}. Earlier links no longer work.")
    return redirect("accounts:two-factor-setup")


@access.public
@GET_POST
@never_cache
def not_me(request, token):
    """The "this wasn't me" link of a security notice: GET asks, POST signs the user out
    everywhere and tells the partnership admins. Works once."""
    notice = notices.notice_from_link(token)
    if notice is None:
        return render(request, "accounts/not_me.html", {"state": "invalid"})
    if request.method == "POST":
        if not services.not_me_report(request=request, notice=notice):
            return render(request, "accounts/not_me.html", {"state": "invalid"})
        return render(request, "accounts/not_me.html", {"state": "done", "notice": notice})
    when = notices.london_time(notice.created_at)
    return render(request, "accounts/not_me.html", {"state": "ask", "notice": notice, "when": when})


@access.password_only
@require_POST
def sign_out(request):
    services.sign_out(request=request)
    messages.success(request, "You have signed out.")
    return redirect("accounts:sign-in")


@require_POST
def sign_out_everywhere(request):
    services.sign_out_everywhere(request=request)
    messages.success(request, "You have signed out on every device.")
    return redirect("accounts:sign-in")


@access.public
@never_cache
def password_reset(request):
    form = ResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.password_reset_request(
            request=request, email=form.cleaned_data["email"], partnership_name=_partnership_name(request)
        )
        return render(request, "accounts/password_reset_sent.html", {"email": form.cleaned_data["email"]})
    return render(request, "accounts/password_reset.html", {"form": form})


@method_decorator(never_cache, name="dispatch")
class _SetPasswordBase(auth_views.PasswordResetConfirmView):
    """From a single-use link: set a password, then go on to the second factor."""

    concord_access = access.PUBLIC
    form_class = NewPasswordForm
    template_name = "accounts/set_password.html"
    post_reset_login = True
    post_reset_login_backend = settings.AUTHENTICATION_BACKENDS[0]
    success_url = reverse_lazy("accounts:two-factor-setup")
    how = ""

    def form_valid(self, form):
        super().form_valid(form)  # saves the password and signs in (the session key rotates)
        services.password_set_recorded(request=self.request, user=form.user, how=self.how)
        return _after_sign_in(self.request)


class SetPasswordView(_SetPasswordBase):
    token_generator = invitation_tokens
    how = "invitation"


class ResetPasswordView(_SetPasswordBase):
    token_generator = reset_tokens
    how = "reset"
