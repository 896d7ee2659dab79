"""Rate schedule pages: list, upload with the engine's problems, publish, bill calculator."""

from __future__ import annotations

import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from sewerline.apps.core.models import ChangeRecord
from sewerline.apps.core.roles import Role
from sewerline.apps.rates.models import RateSchedule, RateScheduleVersion
from ui_world import RATES, make_version, user_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def version():
    return make_version()


@pytest.fixture
def auditor(client):
    client.force_login(user_with(Role.AUDITOR))
    return client


def text_of(response) -> str:
    text = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(text))


def upload(client, schedule, text: str | bytes, name: str = "rates-2017.owrs"):
    data = text.encode() if isinstance(text, str) else text
    return client.post(reverse("rates:upload", args=[schedule.pk]),
                       {"file": SimpleUploadedFile(name, data)})


def test_list_shows_schedules(auditor, version):
    text = text_of(auditor.get(reverse("rates:list")))
    assert "Sewer rates (Ordinance 2225) 1 effective Jan 1, 2016" in text


def test_create_schedule(auditor):
    response = auditor.post(reverse("rates:create"), {"name": "Outside city rates",
                                                      "description": ""})
    schedule = RateSchedule.objects.get(name="Outside city rates")
    assert response.url == reverse("rates:schedule", args=[schedule.pk])
    assert ChangeRecord.objects.get(object_type="rates.rateschedule").action == "created"


def test_upload_valid_version(auditor, version):
    text = RATES.replace("2016-01-01", "2017-07-01").replace("20.00", "22.00")
    response = upload(auditor, version.schedule, text)
    created = RateScheduleVersion.objects.get(effective_date="2017-07-01")
    assert response.url == reverse("rates:version", args=[created.pk])
    assert not created.published
    assert created.file_name == "rates-2017.owrs"
    assert created.text == text
    record = ChangeRecord.objects.get(object_type="rates.ratescheduleversion")
    assert record.changes["effective_date"] == [None, "2017-07-01"]
    assert record.changes["classes"] == [None, "RESIDENTIAL_SINGLE, COMMERCIAL"]


def test_upload_lists_problems_with_line_and_hint(auditor, version):
    text = RATES.replace("2016-01-01", "2017-07-01").replace("bill_unit:", "bill_unti:")
    response = upload(auditor, version.schedule, text)
    assert response.status_code == 400
    page = text_of(response)
    # bill_unit is on line 5 of the file.
    assert "Line 5, bill_unti: unknown metadata key 'bill_unti'" in page
    assert "Did you mean 'bill_unit'?" in page
    assert RateScheduleVersion.objects.count() == 1


def test_upload_lists_formula_problem(auditor, version):
    text = RATES.replace("2016-01-01", "2017-07-01").replace(
        "volume_rate * usage_ccf", "volume_rate * * usage_ccf")
    response = upload(auditor, version.schedule, text)
    assert response.status_code == 400
    page = text_of(response)
    # The commercial volume charge is on line 15.
    assert "Line 15, volume_charge: class COMMERCIAL: formula of volume_charge is invalid" in page
    assert "Use numbers, names, + - * /, parentheses" in page


def test_upload_rejects_same_effective_date(auditor, version):
    response = upload(auditor, version.schedule, RATES)
    assert response.status_code == 400
    assert "already has a version effective Jan 1, 2016" in text_of(response)


def test_upload_rejects_file_over_limit(auditor, version, settings):
    settings.UPLOAD_MAX_BYTES = 100
    response = upload(auditor, version.schedule, RATES.replace("2016", "2018"))
    assert response.status_code == 400
    assert "the upload limit is 100 bytes" in text_of(response)
    assert RateScheduleVersion.objects.count() == 1


def test_upload_rejects_text_that_is_not_utf8(auditor, version):
    response = upload(auditor, version.schedule, "utility_name: Sch\xf6nberg".encode("latin-1"))
    assert response.status_code == 400
    assert "the rate file is not UTF-8 text" in text_of(response)


@pytest.mark.parametrize("role", [Role.BILLING_CLERK, Role.CUSTOMER_SERVICE, Role.READ_ONLY])
def test_upload_and_publish_refused_without_manage_rates(client, version, role):
    client.force_login(user_with(role))
    assert upload(client, version.schedule, RATES.replace("2016", "2019")).status_code == 403
    version.published = False
    version.save()
    assert client.post(reverse("rates:publish", args=[version.pk])).status_code == 403
    assert not RateScheduleVersion.objects.get(pk=version.pk).published


def test_publish_version(auditor):
    draft = make_version(published=False)
    response = auditor.post(reverse("rates:publish", args=[draft.pk]), follow=True)
    assert "Version published" in text_of(response)
    assert RateScheduleVersion.objects.get(pk=draft.pk).published
    assert ChangeRecord.objects.get(action="published").changes == {
        "published": ["False", "True"]}


def test_version_page_shows_classes_and_numbered_source(auditor, version):
    text = text_of(auditor.get(reverse("rates:version", args=[version.pk])))
    assert "RESIDENTIAL_SINGLE usage_ccf, winter_average" in text
    assert "COMMERCIAL usage_ccf" in text
    assert "5 bill_unit: kgal" in text
    assert "monthly, usage in kgal" in text


def test_calculator_explains_bill(auditor, version):
    response = auditor.get(reverse("rates:version", args=[version.pk]), {
        "class_name": "RESIDENTIAL_SINGLE", "usage": "6", "inputs": "winter_average=4"})
    text = text_of(response)
    # 20.00 + 5.00 * min(6, 4) = 40.00.
    assert "volume_charge = volume_rate * min(usage_ccf, winter_average)" in text
    assert "bill = service_charge + volume_charge = 20.00 + 20.00 = 40.00" in text
    assert "Bill: $40.00" in text


def test_calculator_answers_htmx_with_result_only(auditor, version):
    response = auditor.get(reverse("rates:version", args=[version.pk]), {
        "class_name": "COMMERCIAL", "usage": "10", "inputs": ""}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="calculator-result">')
    assert "<html" not in html
    # 30.00 + 6.00 * 10 = 90.00.
    assert "Bill: <strong>$90.00</strong>" in html


def test_calculator_lists_missing_input(auditor, version):
    response = auditor.get(reverse("rates:version", args=[version.pk]), {
        "class_name": "RESIDENTIAL_SINGLE", "usage": "6", "inputs": ""})
    text = text_of(response)
    assert "The bill could not be computed" in text
    assert "winter_average" in text


def test_calculator_rejects_bad_input_line(auditor, version):
    response = auditor.get(reverse("rates:version", args=[version.pk]), {
        "class_name": "COMMERCIAL", "usage": "1", "inputs": "winter average 4"})
    assert "is not column=value" in text_of(response)


def test_calculator_open_to_customer_service(client):
    draft = make_version(published=False)
    client.force_login(user_with(Role.CUSTOMER_SERVICE))
    response = client.get(reverse("rates:version", args=[draft.pk]), {
        "class_name": "COMMERCIAL", "usage": "10"})
    assert response.status_code == 200
    assert "Bill: $90.00" in text_of(response)
    assert reverse("rates:publish", args=[draft.pk]) not in response.content.decode()


def test_rate_pages_redirect_anonymous(client, version):
    for url in (reverse("rates:list"), reverse("rates:version", args=[version.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_rate_pages_refuse_user_without_role(client, version):
    client.force_login(user_with(None))
    assert client.get(reverse("rates:list")).status_code == 403
