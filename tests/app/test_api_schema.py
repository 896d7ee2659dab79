"""Generated requests against every operation of the OpenAPI document (schemathesis).

The document is the one /api/schema/ serves. Each operation gets up to 10 generated
requests of valid and of invalid data, sent through the WSGI application with an
administrator's token over the stored test utility. Every response must be below 500,
use a documented status code and content type, and match the documented body.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.contrib.auth.models import User
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.settings import patched_settings
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from test_api import World, build_world

from sewerline.apps.api.schema import SchemaView
from sewerline.apps.core.roles import Role

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

MAX_EXAMPLES = 10

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def generate_document() -> dict:
    """Return the OpenAPI document as /api/schema/ builds it, without a request."""
    with patched_settings(SchemaView.custom_settings):
        return SchemaGenerator().get_schema(request=None, public=True)


DOCUMENT = generate_document()
schema = schemathesis.openapi.from_dict(DOCUMENT)
schema.config.generation.update(
    max_examples=MAX_EXAMPLES,
    modes=["positive", "negative"],
    deterministic=True,          # the same requests on every run
    database="none",             # no example database written next to the tests
    with_security_parameters=False,
)


# Resource in the path ("accounts" in /api/accounts/{id}/) -> id of a stored object,
# filled by the `admin_headers` fixture for the running test.
STORED_IDS: dict[str, int] = {}


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Send about half of the generated ids to stored objects, so that reads and
    changes of real objects are generated and not only 404s.

    Only whole-number ids are replaced: an id of another type is invalid data on
    purpose, and must stay so.
    """
    resource = context.operation.path.split("/")[2]
    generated = (path_parameters or {}).get("id")
    if resource not in STORED_IDS or type(generated) is not int:
        return st.just(path_parameters)
    return st.sampled_from([generated, STORED_IDS[resource]]).map(
        lambda chosen: {**path_parameters, "id": chosen})


# One application for the module: each new one loads the middleware again, and
# WhiteNoise then scans every static file.
APPLICATION = get_wsgi_application()


@pytest.fixture
def wsgi_app():
    """Return the project's WSGI application, run inside the test's transaction.

    Django closes the database connection at the start and end of each request. In a
    test that would drop the transaction that contains the stored data, so the test
    detaches those two signal handlers while it runs, as Django's own test client does.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield APPLICATION
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def admin_headers() -> dict[str, str]:
    """Store the test utility and return the headers of an administrator's token."""
    world: World = build_world()
    STORED_IDS.update({
        "entities": world.entity.pk, "cycles": world.cycle.pk,
        "accounts": world.accounts[0].pk, "rate-schedules": world.schedule.pk,
        "rate-versions": world.draft.pk, "imports": world.batch.pk,
        "audit-runs": world.run.pk, "findings": world.findings[0].pk,
        "discrepancies": world.discrepancy.pk, "jobs": world.import_job.pk,
    })
    token = Token.objects.create(user=world.users[Role.ADMINISTRATOR])
    return {"Authorization": f"Token {token.key}"}


def test_served_document_is_the_tested_one(client):
    client.force_login(User.objects.create_superuser("schema", password="not used"))
    served = client.get("/api/schema/", {"format": "json"}).json()
    assert served == DOCUMENT


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    # The stored data and the application are shared by the examples of one operation
    # on purpose: a write leaves the data as a client would find it next.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    deadline=None,
)
def test_api_conforms_to_schema(case, wsgi_app, admin_headers):
    case.call_and_validate(app=wsgi_app, headers=admin_headers, checks=CHECKS)
