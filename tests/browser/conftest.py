"""Fixtures of the browser tests: headless Chromium driven by Playwright against the live server.

The tests use the Chromium of the operating system at /usr/bin/chromium and never
download a browser. Without it they fail with the command that installs it.

Playwright's sync API keeps an asyncio event loop marked as running in the test's
thread, and Django raises SynchronousOnlyOperation for ORM calls from a thread with a
running loop. The module fixture `browser` therefore sets DJANGO_ALLOW_ASYNC_UNSAFE
while Playwright runs (the switch Django's "Asynchronous support" guide documents).
Playwright's loop runs only inside Playwright's own calls, so no coroutine runs while
a test calls the ORM.

Background jobs run in threads of the live server's process (SEWERLINE_JOBS=inprocess)
and open their own database connections, so the tests use committed data (pytest-django's
transactional database, which `live_server` implies). On PostgreSQL every connection
reads the committed rows. On SQLite, Django names the in-memory test database
"file:memorydb_default?mode=memory&cache=shared", so a job thread's new connection opens
the same database as the test and the live server while the test's connection is open.
NOTE: shared-cache SQLite locks whole tables, and a lock conflict fails at once instead
of waiting for the busy timeout. The jobs here write while the pages only read, and no
conflict has shown up in repeated runs, but PostgreSQL is the database without this limit.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Group, User
from django.core.files import File

from sewerline.apps.core.roles import Role
from sewerline.apps.cycles.models import BillingCycle
from sewerline.apps.entities.actions import create_cycle, save_entity
from sewerline.apps.entities.models import BillingEntity, SavedMapping
from sewerline.apps.imports.actions import import_profiles_file, save_mapping
from sewerline.apps.imports.models import ImportStatus
from sewerline.apps.rates.actions import create_schedule, publish, upload_version
from sewerline.apps.rates.models import RateScheduleVersion
from sewerline.sample import CYCLES, sample_files

logger = logging.getLogger(__name__)

CHROMIUM = Path("/usr/bin/chromium")
# Headless Chromium without the sandbox, which Chromium cannot start as root or in many
# containers, and without a GPU, QUIC or the background requests to Google services.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# Maximum wait for a page element, a navigation or an expect() check, in milliseconds.
# An import of the sample export or its audit takes a few seconds, so a test that waits
# longer has failed.
WAIT_MS = 30_000
PASSWORD = "correct horse battery staple"
LOGIN_PATH = "/accounts/login/"
# Budgeted sewer revenue of the sample's cycle 2016-03 in USD, an illustrative figure.
BUDGET = Decimal("240000.00")
VIEWPORT = {"width": 1366, "height": 900}


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """Return the system Chromium, or fail the test with how to install it."""
    if not CHROMIUM.is_file():
        pytest.fail(
            f"Chromium was not found at {CHROMIUM}. The browser tests use the system "
            "Chromium and never download one: run `apt-get install chromium`.",
            pytrace=False,
        )
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium_path):
    """Yield a headless Chromium for the tests of one module."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT_MS)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(chromium_path),
                                                  args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory) -> Path:
    """Return the folder for screenshots: $SEWERLINE_SCREENSHOTS, else a temporary one."""
    configured = os.environ.get("SEWERLINE_SCREENSHOTS")
    folder = Path(configured) if configured else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(autouse=True)
def web_settings(settings, tmp_path):
    """Keep uploads in the test's folder and run jobs in threads of the live server."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.JOBS = "inprocess"


@pytest.fixture
def open_page(browser, live_server) -> Iterator[Callable]:
    """Return a function that opens a page in a new browser context (its own cookies).

    Each persona of a test gets its own context, as two people at two desks would.
    """
    contexts = []

    def open_new_page():
        context = browser.new_context(base_url=live_server.url, accept_downloads=True,
                                      viewport=VIEWPORT)
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_new_page
    for context in contexts:
        context.close()


@pytest.fixture
def sign_in() -> Callable:
    """Return a function that signs a user in through the login page.

    `sign_in(page, username, landing="/")` opens the login page unless the page shows
    it already (after a redirect), submits the form and waits until the browser is
    at `landing`, a path with its query string.
    """
    def sign_in_as(page, username: str, landing: str = "/") -> None:
        if urlsplit(page.url).path != LOGIN_PATH:
            page.goto(LOGIN_PATH)
        page.get_by_label("User name").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: _path_and_query(url) == landing)

    return sign_in_as


@pytest.fixture
def shoot(screenshot_dir) -> Callable:
    """Return a function that saves a full-page screenshot as `name`.png."""
    def save_screenshot(page, name: str) -> Path:
        path = screenshot_dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        logger.info("screenshot %s", path)
        return path

    return save_screenshot


def _path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def make_user(username: str, role: Role) -> User:
    """Create an active user in the group of `role`, with the tests' password."""
    user = User.objects.create_user(username, password=PASSWORD)
    user.groups.add(Group.objects.get_or_create(name=role.value)[0])
    return user


@dataclass(frozen=True)
class SampleUtility:
    """The sample's sewer utility before its first billing export is imported."""

    entity: BillingEntity
    cycle: BillingCycle
    rate_version: RateScheduleVersion
    saved_mapping: SavedMapping
    clerk: User
    auditor: User


@pytest.fixture
def sample_utility(transactional_db) -> SampleUtility:
    """Store the sample's entity, accounts, published rates, saved mapping and cycle 2016-03.

    Everything goes through the actions the pages call. The billing export is left for
    the test to import through the wizard.
    """
    files = sample_files()
    mapping_text = files.mapping.read_text(encoding="utf-8")
    admin = make_user("ines-admin", Role.ADMINISTRATOR)

    entity = save_entity(admin, name="City of Santa Monica Water Resources",
                         code="santa-monica")
    saved = save_mapping(admin, entity, "Sample billing export", mapping_text)

    schedule = create_schedule(admin, name="Sample sewer rates")
    with files.rates.open("rb") as handle:
        version = publish(admin, upload_version(admin, schedule,
                                                File(handle, name=files.rates.name)))

    profiles = import_profiles_file(admin, entity, files.profiles, mapping_text=mapping_text)
    assert profiles.status == ImportStatus.DONE, profiles.problems

    first = CYCLES[0]
    cycle = create_cycle(admin, entity, code=first.code, period_start=first.period_start,
                         period_end=first.period_end, bill_date=first.first_bill_date,
                         budget=BUDGET)

    return SampleUtility(
        entity=entity, cycle=cycle, rate_version=version, saved_mapping=saved,
        clerk=make_user("carla-clerk", Role.BILLING_CLERK),
        auditor=make_user("arturo-auditor", Role.AUDITOR),
    )


@pytest.fixture
def read_only_user(transactional_db) -> User:
    """Create a user of the read-only role."""
    return make_user("rosa-readonly", Role.READ_ONLY)
