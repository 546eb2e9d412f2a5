from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from django.urls import reverse

from tenant_apps.tasks.selectors import task_counts

# The main menu's section of a page, from its URL's namespace (and, in casework, the first word
# of its name): the page marks that item with aria-current. Casework names its URLs by record.
_SECTIONS = {"search": "search", "tasks": "tasks", "assessments": "assessments", "directory": "admin", "audit": "admin"}
_CASEWORK = (
    ("case-type", "admin"),  # partnership admins shape case types (casework's pages, the admin area)
    ("profile", "profiles"),
    ("detail", "profiles"),
    ("case", "cases"),
    ("share", "cases"),
    ("entry", "cases"),
    ("family", "families"),
    ("gallery", "gallery"),
)
# The current item of the in-page sub-navigation, by URL name (tasks) or first word (admin).
_TASKS_SUBSECTIONS = {"mine": "mine", "team": "team", "created": "created", "digest": "digest"}
# The assessments pages' sub-navigation item, by the first words of the URL's name.
_ASSESSMENTS_SUBSECTIONS = (
    ("bank-submission", "submissions"),
    ("bank", "bank"),
    ("template", "templates"),
    ("local-question", "questions"),
)
_ADMIN_SUBSECTIONS = (
    ("user", "users"),
    ("agency", "agencies"),
    ("team", "agencies"),
    ("settings", "settings"),
    ("api-client", "api-clients"),
)


def site(request):
    """The partnership (or the platform) whose pages these are, for the header."""
    tenant = getattr(request, "tenant", None)
    return {
        "partnership_name": getattr(tenant, "name", "Concord"),
        "is_public_site": getattr(tenant, "schema_name", "public") == "public",
    }


def page_section(namespace: str, url_name: str) -> tuple[str, str]:
    """(main menu section, sub-navigation item) of a partnership page; "" where none applies."""
    if namespace == "" and url_name == "home":
        return "home", ""
    if namespace == "casework":
        section = next((section for prefix, section in _CASEWORK if url_name.startswith(prefix)), "")
        return section, "case-types" if url_name.startswith("case-type") else ""
    section = _SECTIONS.get(namespace, "")
    if namespace == "tasks":
        return section, _TASKS_SUBSECTIONS.get(url_name, "")
    if namespace == "assessments":
        return section, next((sub for prefix, sub in _ASSESSMENTS_SUBSECTIONS if url_name.startswith(prefix)), "")
    if namespace == "audit":
        return section, "audit"
    if namespace == "directory":
        return section, next((sub for prefix, sub in _ADMIN_SUBSECTIONS if url_name.startswith(prefix)), "")
    return section, ""


@dataclass(frozen=True)
class MenuItem:
    name: str  # the section, and its icon (templates/concord/icon.html)
    label: str
    url: str
    current: str  # aria-current: "page" on the section's own page, "true" below it, "" elsewhere


_MENU = (
    ("home", "Home", "home"),
    ("search", "Search", "search:search"),
    ("profiles", "Profiles", "casework:profile-list"),
    ("cases", "Cases", "casework:case-list"),
    ("families", "Families", "casework:family-list"),
    ("tasks", "Tasks", "tasks:mine"),
    ("assessments", "Assessments", "assessments:template-list"),
    ("gallery", "Gallery", "casework:gallery"),
    ("admin", "Admin", "directory:index"),  # partnership admins only
)
_SUBMENUS = {
    "tasks": (
        "Tasks",
        (("mine", "My tasks", "tasks:mine"), ("team", "My team's tasks", "tasks:team"),
         ("created", "Tasks I set", "tasks:created"), ("digest", "Daily e-mail", "tasks:digest")),
    ),
    "assessments": (
        "Assessments",
        (("templates", "Templates", "assessments:template-list"), ("questions", "Our questions",
         "assessments:local-question-list"), ("bank", "Question bank", "assessments:bank"),
         ("submissions", "Our questions for the bank", "assessments:bank-submission-list")),
    ),
    "admin": (
        "Admin",
        (("users", "Users", "directory:user-list"), ("agencies", "Agencies and teams", "directory:agency-list"),
         ("case-types", "Case types", "casework:case-type-list"),
         ("api-clients", "API clients", "directory:api-client-list"), ("settings", "Settings", "directory:settings"),
         ("audit", "Audit log", "audit:list")),
    ),
}  # fmt: skip


class Navigation:
    """What the signed-in partnership pages' header shows: the menu, its current item and the
    overdue count. The count is read only when a page renders the menu (never on the public site,
    the sign-in steps or an error page without a verified user)."""

    def __init__(self, request, section: str, subsection: str):
        self.request, self.section, self.subsection = request, section, subsection

    def _current(self, url: str) -> str:
        return "page" if self.request.path == url else "true"

    @cached_property
    def items(self) -> list[MenuItem]:
        admin = self.request.user.is_partnership_admin
        return [
            MenuItem(name, label, url := reverse(view), self._current(url) if name == self.section else "")
            for name, label, view in _MENU
            if name != "admin" or admin
        ]

    @cached_property
    def subitems(self) -> list[MenuItem]:
        """The section's own lists (tasks, the admin area), shown at the top of its pages."""
        if self.section not in _SUBMENUS or (self.section == "admin" and not self.request.user.is_partnership_admin):
            return []
        read_only = self.request.user.is_read_only  # viewers have no daily e-mail to set
        return [
            MenuItem(name, label, url := reverse(view), self._current(url) if name == self.subsection else "")
            for name, label, view in _SUBMENUS[self.section][1]
            if not (name == "digest" and read_only)
            and not (name == "submissions" and not self.request.user.is_partnership_admin)
        ]

    @property
    def subnavigation_label(self) -> str:
        return _SUBMENUS[self.section][0] if self.section in _SUBMENUS else ""

    @cached_property
    def overdue_tasks(self) -> int:
        return task_counts(self.request.user).mine_overdue


def navigation(request):
    """``nav``: the main menu of a signed-in (second factor given) partnership page, or None."""
    user = getattr(request, "user", None)
    tenant = getattr(request, "tenant", None)
    if (
        user is None
        or not user.is_authenticated
        or getattr(tenant, "schema_name", "public") == "public"
        or not getattr(user, "is_verified", lambda: False)()
    ):
        return {"nav": None}
    match = getattr(request, "resolver_match", None)
    section, subsection = page_section(match.namespace, match.url_name or "") if match else ("", "")
    return {"nav": Navigation(request, section, subsection)}
