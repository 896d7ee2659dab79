"""The dashboard: billed vs expected vs budget, revenue at stake by type, discrepancy ages."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from sewerline.apps.audits.models import Finding
from sewerline.apps.core.roles import Role
from sewerline.apps.cycles.models import BillingCycle
from sewerline.apps.entities.models import BillingEntity
from sewerline.engine.report.chart import PLOT_HEIGHT, axis_maximum, render_grouped_bar_chart
from ui_world import add_discrepancies, build_world, make_run, user_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def viewer(client):
    client.force_login(user_with(Role.CUSTOMER_SERVICE))
    return client


def text_of(response) -> str:
    """Return the page's text without tags, with runs of white space made one space."""
    text = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(text))


def test_dashboard_shows_cycle_totals_and_budget(viewer, world):
    response = viewer.get(reverse("dashboard"))
    assert response.status_code == 200
    text = text_of(response)
    assert "City of Westfield Water Department" in text
    # Cycle 2016-02: billed $170.00, expected $130.00, budget $250,000.00, at stake $60.00.
    assert "2016-02 $170.00 $130.00 $250,000.00 $60.00" in text
    assert "2016-01 $170.00 $130.00 $240,000.00 $60.00" in text


def test_dashboard_at_stake_by_type(viewer, world):
    text = text_of(viewer.get(reverse("dashboard")))
    # The latest run (2016-02) has one finding of each type.
    assert "Unknown customer 1 $45.00" in text
    assert "Underbilled 1 $10.00" in text
    assert "Overbilled 1 $5.00" in text
    assert "Revenue at stake by finding type, latest audit (2016-02," in text


def test_dashboard_counts_unresolved_by_age(viewer, world):
    world.overbilled.status = "dismissed"
    world.overbilled.save()
    add_discrepancies(world.entity, world.cycles[1], 8)   # cycles_seen 1 .. 8, $0 .. $7
    text = text_of(viewer.get(reverse("dashboard")))
    # Ages 1 | 2, 3 and two of the world's (the dismissed one left out) | 4, 5, 6 | 7, 8.
    assert "1 1 $0.00" in text
    assert "2-3 4 $58.00" in text          # $1 + $2 + $10 + $45 (dismissed $5 left out)
    assert "4-6 3 $12.00" in text          # $3 + $4 + $5
    assert "7+ 2 $13.00" in text           # $6 + $7


def test_dashboard_charts_are_accessible_svg(viewer, world):
    html = viewer.get(reverse("dashboard")).content.decode()
    assert html.count('role="img"') == 3
    assert f'id="cycles-{world.entity.pk}"' in html
    assert "<title>2016-02, Budget: $250,000.00</title>" in html
    assert "<title>Unknown customer: $45.00</title>" in html
    assert "<title>2-3 cycles: 3</title>" in html


def test_dashboard_links_to_filtered_lists(viewer, world):
    html = viewer.get(reverse("dashboard")).content.decode()
    assert f'href="/discrepancies/?cycle={world.cycles[1].pk}"' in html
    assert 'href="/discrepancies/?status=unresolved&amp;age=7%2B"' in html
    assert (f'href="/discrepancies/?entity={world.entity.pk}&amp;finding_type=underbilled'
            '&amp;status=unresolved"') in html


def test_dashboard_uses_latest_finished_run(viewer, world):
    unfinished = make_run(world.cycles[1], world.version, "1.00", "1.00", "1.00")
    unfinished.finished_at = None
    unfinished.save()
    text = text_of(viewer.get(reverse("dashboard")))
    assert "2016-02 $170.00 $130.00" in text


def test_dashboard_empty_database(viewer):
    response = viewer.get(reverse("dashboard"))
    assert response.status_code == 200
    assert "No billing entities yet." in text_of(response)


def test_dashboard_query_count_is_pinned(client, django_assert_num_queries, world):
    client.force_login(user_with(Role.AUDITOR))
    with django_assert_num_queries(QUERIES):
        client.get(reverse("dashboard"))

    # More entities, cycles, runs and findings: still the same number of queries.
    for number in range(3):
        entity = BillingEntity.objects.create(name=f"Entity {number}", code=f"e{number}")
        for month in range(1, 5):
            cycle = BillingCycle.objects.create(
                entity=entity, code=f"2016-{month:02d}", period_end=dt.date(2016, month, 28),
                budget=Decimal("1000.00"))
            run = make_run(cycle, world.version, "900.00", "950.00", "50.00")
            Finding.objects.create(run=run, finding_type="underbilled", billed_account="1",
                                   revenue_at_stake=Decimal("50.00"), match_method="account")
        add_discrepancies(entity, cycle, 20, start=number * 100)
    with django_assert_num_queries(QUERIES):
        response = client.get(reverse("dashboard"))
    assert "Entity 2" in text_of(response)


# Session and user: 2. The user's groups, read once per request for the capability
# checks of the page and its menu: 1. The dashboard's own 5 are the entities with their
# latest runs, the cycles with totals, the runs, the finding sums and the ages.
QUERIES = 2 + 1 + 5


def test_dashboard_refuses_user_without_role(client, world):
    client.force_login(user_with(None))
    assert client.get(reverse("dashboard")).status_code == 403


def test_dashboard_redirects_anonymous_to_login(client):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1e12"), places=2))
def test_axis_maximum_is_round_and_close(largest):
    top = axis_maximum(largest)
    assert largest <= top < 2 * largest + Decimal("0.01")
    step = top / 4
    assert step.normalize().as_tuple().digits[0] in (1, 2, 5)


def test_axis_maximum_examples():
    assert axis_maximum(Decimal("1234.50")) == 2000
    assert axis_maximum(Decimal("7")) == 8
    assert axis_maximum(Decimal("0")) == 1
    assert axis_maximum(Decimal("-5")) == 1


def test_grouped_bar_chart_skips_missing_amounts():
    svg = render_grouped_bar_chart(
        [("2016-01", [Decimal("100"), Decimal("80"), None]),
         ("<b>", [Decimal("50"), None, Decimal("200")])],
        ["Billed", "Expected", "Budget"], title="T & t", description="d", chart_id="g")
    assert svg.count('<rect class="column') == 4
    assert "<title>2016-01, Expected: $80.00</title>" in svg
    assert "&lt;b&gt;, Budget: $200.00" in svg
    assert "<b>" not in svg
    assert '<title id="g-title">T &amp; t</title>' in svg
    # The tallest bar ($200.00 of an axis to $200.00) fills the plot height.
    assert f'height="{PLOT_HEIGHT}.0"' in svg
