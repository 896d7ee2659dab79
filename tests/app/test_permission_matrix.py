"""Every URL of the project, requested by every role and by an anonymous visitor.

The URL patterns are walked from the root resolver, so a page or endpoint added later
is checked without changing this file. Each view must declare the capability it needs:
`capability` on a staff page (CapabilityRequiredMixin), or HasCapability with
`read_capability` and `write_capability` on an API view. The expected outcome of each
request comes from core.roles.GRANTS and that declaration:

- a role whose grants contain the capability is let through. A page returns 200 or a
  redirect that is not to the login page, and a method the view does not offer 405.
  A write with an empty body may return any status below 500 except 401 and 403;
- a signed-in role without it gets 403;
- an anonymous visitor is redirected to the login page, except under /api/, which
  returns 401.

The Django admin is checked separately: it lets in staff users only, and the role users
here are not staff. Requests with side effects (POST, PATCH) run with an empty body, in a
transaction rolled back after each test.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from rest_framework.views import APIView
from test_api import World, build_world

from sewerline.apps.core.permissions import CapabilityRequiredMixin, HasCapability
from sewerline.apps.core.roles import GRANTS, Capability, Role

pytestmark = pytest.mark.django_db

ANONYMOUS = "anonymous"
LOGIN_PATH = "/accounts/login/"
ADMIN_LOGIN_PATH = "/admin/login/"

# Views that must be reachable without a capability.
EXEMPT = {"login", "logout", "health", "admin:login", "admin:logout"}

# Which stored object a URL's path parameter names, by URL name and parameter.
PATH_OBJECTS: dict[str, dict[str, Callable[[World], object]]] = {
    "api:entity-detail": {"pk": lambda w: w.entity},
    "api:cycle-detail": {"pk": lambda w: w.cycle},
    "api:account-detail": {"pk": lambda w: w.accounts[0]},
    "api:rate-schedule-detail": {"pk": lambda w: w.schedule},
    "api:rate-schedule-upload-version": {"pk": lambda w: w.schedule},
    "api:rate-version-detail": {"pk": lambda w: w.version},
    "api:rate-version-publish": {"pk": lambda w: w.draft},
    "api:import-detail": {"pk": lambda w: w.batch},
    "api:audit-run-detail": {"pk": lambda w: w.run},
    "api:finding-detail": {"pk": lambda w: w.findings[0]},
    "api:discrepancy-detail": {"pk": lambda w: w.discrepancy},
    "api:discrepancy-change-status": {"pk": lambda w: w.discrepancy},
    "api:job-detail": {"pk": lambda w: w.import_job},
    "rates:schedule": {"pk": lambda w: w.schedule},
    "rates:upload": {"pk": lambda w: w.schedule},
    "rates:version": {"pk": lambda w: w.version},
    "rates:publish": {"pk": lambda w: w.draft},
}

# The object a `pk` names in the staff pages of each app, unless PATH_OBJECTS names
# another, because the pages of an app are about its main object.
NAMESPACE_OBJECTS: dict[str, Callable[[World], object]] = {
    "entities": lambda w: w.entity,
    "cycles": lambda w: w.cycle,
    "profiles": lambda w: w.accounts[0],
    "imports": lambda w: w.batch,
    "jobs": lambda w: w.import_job,
    "audits": lambda w: w.run,
    "discrepancies": lambda w: w.discrepancy,
}

# Path parameters of any URL, by name: `contact_pk` is the key of a contact, and so on.
NAMED_PARAMETERS: dict[str, Callable[[World], object]] = {
    "entity_pk": lambda w: w.entity.pk,
    "entity_id": lambda w: w.entity.pk,
    "entity_code": lambda w: w.entity.code,
    "cycle_pk": lambda w: w.cycle.pk,
    "account_pk": lambda w: w.accounts[0].pk,
    "schedule_pk": lambda w: w.schedule.pk,
    "version_pk": lambda w: w.version.pk,
    "batch_pk": lambda w: w.batch.pk,
    "import_pk": lambda w: w.batch.pk,
    "run_pk": lambda w: w.run.pk,
    "finding_pk": lambda w: w.findings[0].pk,
    "discrepancy_pk": lambda w: w.discrepancy.pk,
    "job_pk": lambda w: w.import_job.pk,
    "contact_pk": lambda w: w.contact.pk,
    "mapping_pk": lambda w: w.mapping.pk,
}

# Path parameters of the Django admin's own URLs. The app label is set from the URL
# pattern itself, which lists the registered apps.
ADMIN_PARAMETERS: dict[str, Callable[[World], object]] = {
    "object_id": lambda w: w.users[Role.ADMINISTRATOR].pk,
    "id": lambda w: w.users[Role.ADMINISTRATOR].pk,
    "content_type_id": lambda w: 1,
    "url": lambda w: "no-such-page/",
}

WRITE_METHODS = ("post", "put", "patch", "delete")

# A named group of a regular-expression URL pattern, e.g. (?P<pk>[0-9]+).
REGEX_GROUP = r"\(\?P<(\w+)>[^)]*\)"


@dataclass(frozen=True)
class Route:
    """One URL pattern of the project, with its full route and its view."""

    route: str          # e.g. "api/^accounts/(?P<pk>[0-9]+)/$" or "audits/<int:pk>/"
    name: str           # namespaced URL name, "" when the pattern has none
    namespace: str
    callback: Callable

    @property
    def label(self) -> str:
        return self.name or self.route

    def parameters(self) -> list[str]:
        # Regex groups first: a group's "(?P<pk>" would otherwise read as a "<pk>".
        groups = re.findall(r"\(\?P<(\w+)>", self.route)
        converters = re.findall(r"<(?:\w+:)?(\w+)>", re.sub(REGEX_GROUP, "", self.route))
        return groups + converters

    def path(self, values: dict[str, object]) -> str:
        """Return the URL path with the parameters filled in."""
        path = re.sub(REGEX_GROUP, lambda m: str(values[m.group(1)]), self.route)
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), path)
        return "/" + path.replace("^", "").replace("$", "").replace("\\", "")


def walk(patterns, prefix: str = "", namespace: str = "") -> list[Route]:
    """Return every URL pattern under `patterns`, following includes."""
    routes = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            routes += walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            name = pattern.name or ""
            if name and namespace:
                name = f"{namespace}:{name}"
            routes.append(Route(prefix + str(pattern.pattern), name, namespace,
                                pattern.callback))
    return routes


ROUTES = walk(get_resolver().url_patterns)
APP_ROUTES = [r for r in ROUTES if r.namespace != "admin" and r.name not in EXEMPT]
ADMIN_ROUTES = [r for r in ROUTES if r.namespace == "admin" and r.name not in EXEMPT]
USERS = [role.value for role in Role] + [ANONYMOUS]


# ---- the capability each view declares -------------------------------------------------

def api_view_class(callback) -> type[APIView] | None:
    return getattr(callback, "cls", None)


def declared(cls: type, attribute: str, base: type) -> bool:
    """Return whether a class other than `base` sets `attribute` (the base's default
    does not count as a declaration)."""
    return any(attribute in vars(klass) for klass in cls.__mro__ if klass is not base)


def offered_methods(callback) -> list[str]:
    """Return the methods (lower case) among GET and WRITE_METHODS that the view serves."""
    if api_view_class(callback) is not None and getattr(callback, "actions", None):
        answered = set(callback.actions)
    else:
        view_class = getattr(callback, "view_class", None) or api_view_class(callback)
        answered = {method for method in ("get", *WRITE_METHODS) if hasattr(view_class, method)}
    return [method for method in ("get", *WRITE_METHODS) if method in answered]


def required_capability(route: Route, method: str) -> Capability | None:
    """Return the capability the route's view declares for `method`.

    None means the view rejects that method for every role (an API view without a
    write capability). Fails the test when the view declares nothing.
    """
    cls = api_view_class(route.callback)
    if cls is not None:
        overrides = getattr(route.callback, "initkwargs", {})
        permissions = overrides.get("permission_classes", cls.permission_classes)
        assert any(issubclass(p, HasCapability) for p in permissions), (
            f"{route.label}: API view {cls.__name__} does not use HasCapability")
        attribute = "read_capability" if method == "get" else "write_capability"
        assert attribute in overrides or declared(cls, attribute, APIView), (
            f"{route.label}: API view {cls.__name__} declares no {attribute}")
        return overrides.get(attribute, getattr(cls, attribute))

    view_class = getattr(route.callback, "view_class", None)
    assert view_class is not None and issubclass(view_class, CapabilityRequiredMixin), (
        f"{route.label}: view {getattr(view_class, '__name__', route.callback)} does not "
        "use CapabilityRequiredMixin, so it checks no capability")
    assert declared(view_class, "capability", CapabilityRequiredMixin), (
        f"{route.label}: view {view_class.__name__} does not set `capability`; set it "
        "even for Capability.VIEW, so each page's access is a decision")
    return view_class.capability


# ---- the stored objects the URLs name ---------------------------------------------------

def path_values(route: Route, world: World) -> dict[str, object]:
    """Return a value for each path parameter of the route, from the stored world."""
    values = {}
    for name in route.parameters():
        if route.namespace == "admin" and name == "app_label":
            # The pattern is e.g. (?P<app_label>auth|authtoken): take the first label.
            labels = re.search(r"\(\?P<app_label>([^)]*)\)", route.route).group(1)
            values[name] = labels.split("|")[0]
        elif route.namespace == "admin":
            values[name] = ADMIN_PARAMETERS[name](world)
        elif name in PATH_OBJECTS.get(route.name, {}):
            values[name] = PATH_OBJECTS[route.name][name](world).pk
        elif name in NAMED_PARAMETERS:
            values[name] = NAMED_PARAMETERS[name](world)
        elif name == "pk" and route.namespace in NAMESPACE_OBJECTS:
            values[name] = NAMESPACE_OBJECTS[route.namespace](world).pk
        else:
            pytest.fail(f"{route.label}: no value for path parameter {name!r}; add the URL "
                        "to PATH_OBJECTS or the parameter to NAMED_PARAMETERS")
    return values


# ---- requests ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Store the test utility once for the module; every test rolls back its own changes."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def clients(world, django_db_blocker) -> dict[str, Client]:
    """Return a client per visitor, signed in once for the module.

    Each new Client loads the middleware again, and WhiteNoise then scans every static
    file, so one client per visitor keeps the module fast.
    """
    signed_in = {ANONYMOUS: Client()}
    with django_db_blocker.unblock():
        for role in Role:
            signed_in[role.value] = Client()
            signed_in[role.value].force_login(world.users[role.value])
    return signed_in


def send(client: Client, method: str, path: str):
    """Send one request; a write has an empty body, enough for the permission check."""
    if method == "get":
        return client.get(path)
    if method == "post":
        return client.post(path, {})
    return getattr(client, method)(path, "", content_type="application/json")


def is_login_redirect(response, login_path: str = LOGIN_PATH) -> bool:
    return response.status_code == 302 and response["Location"].startswith(login_path)


def test_every_view_is_covered():
    # The walk found the staff pages and the API, and the exempt views all exist.
    names = {route.name for route in ROUTES}
    assert {"dashboard", "api:account-list", "api:schema"} <= names
    assert names >= EXEMPT


@pytest.mark.parametrize("visitor", USERS)
@pytest.mark.parametrize("route", APP_ROUTES, ids=lambda route: route.label)
def test_permission(route, visitor, world, clients):
    path = route.path(path_values(route, world))
    assert resolve(path).func is route.callback, f"{path} resolves to another view"
    client = clients[visitor]
    offered = offered_methods(route.callback)

    # GET always, then each method that changes data.
    for method in ["get", *(m for m in offered if m != "get")]:
        needed = required_capability(route, method)
        response = send(client, method, path)
        request_text = f"{method.upper()} {path} as {visitor}"

        if visitor == ANONYMOUS:
            if path.startswith("/api/"):
                assert response.status_code == 401, f"{request_text}: {response.status_code}"
            else:
                assert is_login_redirect(response), f"{request_text}: {response.status_code}"
            continue

        allowed = needed is not None and needed in GRANTS[Role(visitor)]
        if not allowed:
            assert response.status_code == 403, (
                f"{request_text} needs {needed}: {response.status_code}")
        elif method == "get" and "get" not in offered:
            assert response.status_code == 405, f"{request_text}: {response.status_code}"
        elif method == "get":
            assert response.status_code == 200 or (
                response.status_code == 302 and not is_login_redirect(response)
            ), f"{request_text}: {response.status_code}"
        else:
            assert response.status_code not in (401, 403), (
                f"{request_text}: {response.status_code}")
            assert not is_login_redirect(response), request_text
            assert response.status_code < 500, f"{request_text}: {response.status_code}"


@pytest.mark.parametrize("visitor", USERS)
@pytest.mark.parametrize("route", ADMIN_ROUTES, ids=lambda route: route.label)
def test_admin_is_for_staff_only(route, visitor, world, clients):
    path = route.path(path_values(route, world))
    client = clients[visitor]
    changes_data = re.search(r"_(add|change|delete)$|password_change$", route.name)
    methods = ["get", "post"] if changes_data else ["get"]
    for method in methods:
        response = send(client, method, path)
        expected_login = LOGIN_PATH if visitor == ANONYMOUS else ADMIN_LOGIN_PATH
        assert is_login_redirect(response, expected_login), (
            f"{method.upper()} {path} as {visitor}: {response.status_code}")
