"""The account page: profile, change history, billing history with charts, explained charge."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from sewerline.apps.audits.models import Finding
from sewerline.apps.core.roles import Role
from sewerline.apps.cycles.models import BillingCycle
from sewerline.apps.profiles.actions import update_account
from sewerline.engine.report.chart import render_line_chart
from ui_world import build_world, make_batch, make_charge, user_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def viewer(client):
    client.force_login(user_with(Role.CUSTOMER_SERVICE))
    return client


def page_of(client, account):
    return client.get(reverse("profiles:detail", args=[account.pk]))


def text_of(response) -> str:
    text = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(text))


def test_account_page_shows_profile(viewer, world):
    response = page_of(viewer, world.residential)
    assert response.status_code == 200
    text = text_of(response)
    assert "Account SS-010045" in text
    assert "PARK, DANIEL E" in text
    assert "4.000 kgal a month" in text
    assert 'Meter 48213377 (5/8")' in text


def test_billing_history_lists_bills_newest_first(viewer, world):
    response = page_of(viewer, world.residential)
    text = text_of(response)
    assert ("2016-02 Mar 8, 2016 0012345-01 R1 6.000 $30.00 $40.00 -$10.00 Underbilled"
            in text)
    assert ("2016-01 Feb 5, 2016 0012345-01 R1 5.000 $30.00 $40.00 -$10.00 Underbilled"
            in text)
    assert text.index("2016-02 Mar 8, 2016") < text.index("2016-01 Feb 5, 2016")


def test_billing_history_includes_bills_linked_by_finding(viewer, world):
    # A third cycle billed under a new water account number, linked by meter.
    march = BillingCycle.objects.create(entity=world.entity, code="2016-03")
    charge = make_charge(make_batch(world.entity, march), 2, "0099999-02", "40.00", "4000")
    Finding.objects.create(run=world.runs[1], finding_type="account_changed",
                           account=world.residential, charge=charge,
                           billed_account="0099999-02", match_method="meter")
    text = text_of(page_of(viewer, world.residential))
    assert "2016-03" in text
    assert "0099999-02" in text


def test_charts_plot_usage_and_charge_per_cycle(viewer, world):
    html = page_of(viewer, world.residential).content.decode()
    assert html.count('class="line-chart"') == 2
    assert "<title>2016-01, Usage (kgal): 5.0</title>" in html
    assert "<title>2016-02, Usage (kgal): 6.0</title>" in html
    assert "<title>2016-02, Billed sewer charge: $30.00</title>" in html
    assert 'aria-labelledby="usage-chart-title usage-chart-desc"' in html


def test_explained_charge_of_latest_cycle(viewer, world):
    response = page_of(viewer, world.residential)
    text = text_of(response)
    # 2016-02: 6,000 gallons = 6 kgal; 20.00 + 5.00 * min(6, 4) = 40.00.
    assert "Expected charge for 2016-02, explained" in text
    assert "volume_charge = volume_rate * min(usage_ccf, winter_average)" in text
    assert "bill = service_charge + volume_charge = 20.00 + 20.00 = 40.00" in text
    assert "Expected: $40.00" in text
    assert response.context["explained"].total == Decimal("40.00")


def test_explained_charge_of_commercial_account(viewer, world):
    explained = page_of(viewer, world.commercial).context["explained"]
    # 30.00 + 6.00 * 10 kgal = 90.00.
    assert explained.total == Decimal("90.00")
    assert explained.lines[-1] == "bill = service_charge + volume_charge = 30.00 + 60.00 = 90.00"


def test_explained_charge_of_septic_account(viewer, world):
    update_account(None, world.residential, status="septic")
    response = page_of(viewer, world.residential)
    assert response.context["explained"].total == Decimal("0.00")
    assert "status is septic (no sewer service), so no sewer charge is expected" in \
        text_of(response)


def test_explained_charge_without_winter_average(viewer, world):
    update_account(None, world.residential, winter_average=None)
    explained = page_of(viewer, world.residential).context["explained"]
    assert explained.total is None
    assert "missing" in explained.note


def test_explained_charge_without_bills_uses_zero_usage(viewer, world):
    explained = page_of(viewer, world.formula_owner).context["explained"]
    # No bill: 20.00 + 5.00 * min(0, 3) = 20.00.
    assert explained.total == Decimal("20.00")
    assert "zero usage" in explained.note


def test_change_history_shows_old_and_new(viewer, world):
    clerk = user_with(Role.BILLING_CLERK, "ana")
    update_account(clerk, world.residential, winter_average=Decimal("3.950"),
                   note="new winter reads")
    text = text_of(page_of(viewer, world.residential))
    assert "ana updated winter_average : 4.000 → 3.950 new winter reads" in text


def test_findings_and_discrepancies_listed(viewer, world):
    text = text_of(page_of(viewer, world.residential))
    assert "Underbilled Open 2016-02 2 $10.00" in text
    assert "2016-01 Underbilled Account $30.00 $40.00 -$10.00" in text


def add_monthly_bill(world, month: int) -> None:
    cycle = BillingCycle.objects.create(entity=world.entity, code=f"2016-{month:02d}",
                                        period_end=dt.date(2016, month, 28))
    make_charge(make_batch(world.entity, cycle), 2, "0012345-01", "30.00", "5000")
    update_account(None, world.residential, owner_name=f"PARK {month}")


def test_account_page_queries_do_not_grow(viewer, world, django_assert_max_num_queries):
    add_monthly_bill(world, 3)
    with django_assert_max_num_queries(30) as before:
        page_of(viewer, world.residential)
    for month in range(4, 10):
        add_monthly_bill(world, month)
    with django_assert_max_num_queries(30) as after:
        response = page_of(viewer, world.residential)
    assert len(response.context["history"]) == 9
    assert len(after.captured_queries) == len(before.captured_queries)


def test_account_page_redirects_anonymous(client, world):
    response = page_of(client, world.residential)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_account_page_refuses_user_without_role(client, world):
    client.force_login(user_with(None))
    assert page_of(client, world.residential).status_code == 403


def test_line_chart_breaks_at_missing_value():
    svg = render_line_chart(
        ["2016-01", "2016-02", "2016-03", "<2016-04>"],
        [("Usage", [Decimal("4"), None, Decimal("6"), Decimal("8")])],
        title="Usage", description="d", chart_id="u", value_format=str)
    assert svg.count("<polyline") == 1
    assert svg.count("<circle") == 3
    assert "2016-02" in svg
    assert "<title>2016-02, Usage" not in svg
    assert "&lt;2016-04&gt;, Usage: 8" in svg
    assert 'role="img" aria-labelledby="u-title u-desc"' in svg


def test_line_chart_with_one_cycle_draws_a_point():
    svg = render_line_chart(["2016-01"], [("Billed", [Decimal("30.00")])],
                            title="t", description="d", chart_id="c")
    assert "<polyline" not in svg
    assert "<title>2016-01, Billed: $30.00</title>" in svg
