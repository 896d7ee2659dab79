"""`load_demo` loads the sample's two cycles, audits both and creates one user per role.

The second cycle's audit must report exactly expected_findings_2016-05.csv, and the
discrepancies of corrected_2016-05.csv must be verified corrected with the revenue the
first cycle put at stake, which the test works out again from expected_findings.csv.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from audit_data import make_cycle, make_entity
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from sewerline.apps.audits.models import AuditRun, Finding
from sewerline.apps.core.models import ChangeRecord
from sewerline.apps.core.roles import Capability, Role, has_capability, roles_of
from sewerline.apps.cycles.models import BillingCycle
from sewerline.apps.discrepancies.models import Discrepancy
from sewerline.apps.discrepancies.models import DiscrepancyStatus as Status
from sewerline.apps.entities.models import BillingEntity
from sewerline.apps.jobs.models import JobStatus
from sewerline.apps.profiles.models import Account
from sewerline.apps.rates.models import RateSchedule
from sewerline.sample import (
    BILLING_EXPORT,
    CYCLE,
    MAPPING,
    NEXT_BILLING_EXPORT,
    NEXT_CYCLE,
    PROFILES,
    SEWER_RATES,
    sample_dir,
    sample_files,
)

pytestmark = pytest.mark.django_db

ROLES = {
    "demo-admin": Role.ADMINISTRATOR,
    "demo-auditor": Role.AUDITOR,
    "demo-clerk": Role.BILLING_CLERK,
    "demo-service": Role.CUSTOMER_SERVICE,
    "demo-readonly": Role.READ_ONLY,
}
SIGN_IN = re.compile(
    r"^Start the web app with \.venv/bin/sewerline serve, then open "
    r"http://127\.0\.0\.1:8000/ and sign in as demo-admin with password (\S+)$",
    re.MULTILINE,
)


def load(*arguments: str) -> str:
    out = io.StringIO()
    call_command("load_demo", *arguments, stdout=out)
    return out.getvalue()


def read_manifest(path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def amount(text: str | None) -> Decimal | None:
    return None if text in (None, "") else Decimal(text)


def manifest_keys(rows: list[dict[str, str]]) -> list[tuple]:
    return sorted(
        (row["finding_type"], row["account_id"], row["billed_account"], row["match_method"],
         amount(row["expected_amount"]), amount(row["billed_amount"]))
        for row in rows
    )


def stored_keys(run: AuditRun) -> list[tuple]:
    rows = Finding.objects.filter(run=run).values_list(
        "finding_type", "account__account_id", "billed_account", "match_method",
        "expected_amount", "billed_amount",
    )
    return sorted(
        (ftype, account_id or "", billed_account, method, expected, billed)
        for ftype, account_id, billed_account, method, expected, billed in rows
    )


def run_of(code: str) -> AuditRun:
    return AuditRun.objects.select_related("job").get(
        cycle__entity__code="santa-monica", cycle__code=code)


@pytest.fixture
def output() -> str:
    return load()


def test_load_creates_two_audited_cycles(output):
    entity = BillingEntity.objects.get(code="santa-monica")
    assert entity.name == "City of Santa Monica Water Resources"
    assert Account.objects.filter(entity=entity).count() == 995

    cycles = list(BillingCycle.objects.filter(entity=entity).order_by("period_end"))
    assert [cycle.code for cycle in cycles] == [CYCLE, NEXT_CYCLE]
    assert [cycle.budget for cycle in cycles] == [Decimal("240000.00"), Decimal("245000.00")]
    assert cycles[0].period_start == dt.date(2016, 1, 1)
    assert cycles[0].period_end == dt.date(2016, 2, 29)
    assert cycles[1].period_start == dt.date(2016, 3, 1)
    assert cycles[1].period_end == dt.date(2016, 4, 30)

    for cycle in cycles:
        run = run_of(cycle.code)
        assert run.job.status == JobStatus.DONE, run.job.error
        assert run.rate_version.published
        assert run.rate_version.schedule.name == "Demo sewer rates (Mulvane, Kansas ordinance)"
    assert run_of(CYCLE).bills == 993
    assert run_of(NEXT_CYCLE).bills == 995


def test_first_audit_finds_first_manifest(output):
    expected = manifest_keys(read_manifest(sample_files().expected_findings))
    assert len(expected) == 64
    assert stored_keys(run_of(CYCLE)) == expected


def test_second_audit_finds_second_manifest(output):
    expected = manifest_keys(read_manifest(sample_files().next_expected_findings))
    assert len(expected) == 32
    assert stored_keys(run_of(NEXT_CYCLE)) == expected


def test_corrected_discrepancies_are_verified(output):
    corrected = read_manifest(sample_files().corrected)
    first_cycle = {(row["case_id"], row["finding_type"]): row
                   for row in read_manifest(sample_files().expected_findings)}
    assert len(corrected) == 32

    for row in corrected:
        discrepancy = Discrepancy.objects.select_related("last_cycle").get(
            entity__code="santa-monica", finding_type=row["finding_type"],
            key=row["account_id"],
        )
        label = (row["case_id"], row["finding_type"])
        assert discrepancy.status == Status.VERIFIED_CORRECTED, label
        assert discrepancy.recovered == Decimal(row["recovered_amount"]), label
        assert discrepancy.last_cycle.code == CYCLE, label
        assert discrepancy.cycles_seen == 1, label

        # The revenue recovered is what the first cycle put at stake, by hand.
        found = first_cycle[label]
        expected, billed = amount(found["expected_amount"]), amount(found["billed_amount"])
        if row["finding_type"] == "not_billed":
            at_stake = expected
        elif row["finding_type"] == "class_mismatch":
            at_stake = Decimal("0.00")
        else:
            at_stake = abs(billed - expected)
        assert discrepancy.recovered == at_stake, label

    verified = Discrepancy.objects.filter(status=Status.VERIFIED_CORRECTED)
    assert verified.count() == len(corrected)


def test_uncorrected_discrepancies_persist(output):
    persisting = read_manifest(sample_files().next_expected_findings)
    open_ones = Discrepancy.objects.filter(entity__code="santa-monica", status=Status.OPEN)
    assert open_ones.count() == len(persisting) == 32

    for discrepancy in open_ones.select_related("first_cycle", "last_cycle"):
        assert discrepancy.cycles_seen == 2, discrepancy
        assert discrepancy.first_cycle.code == CYCLE, discrepancy
        assert discrepancy.last_cycle.code == NEXT_CYCLE, discrepancy
        assert discrepancy.recovered is None, discrepancy
    # Unknown customers are tracked by their billed account without dash and leading
    # zeros (0465330-01 as 46533001), the others by account id.
    keys = sorted((d.finding_type, d.key) for d in open_ones)
    assert keys == sorted(
        (row["finding_type"],
         row["account_id"] or row["billed_account"].replace("-", "").lstrip("0"))
        for row in persisting
    )


def test_output_lists_counts_and_sign_in(output):
    assert "995 accounts" in output
    assert f"cycle {CYCLE}: 993 bills" in output
    assert "64 findings" in output
    assert f"cycle {NEXT_CYCLE}: 995 bills" in output
    assert "32 findings" in output
    assert "budget $240,000.00 (an illustrative figure)" in output
    assert "budget $245,000.00 (an illustrative figure)" in output
    assert "32 verified corrected" in output
    assert "32 still open" in output
    assert SIGN_IN.search(output) is not None


def test_users_have_their_roles(output):
    password = SIGN_IN.search(output).group(1)
    assert len(password) >= 16
    for username, role in ROLES.items():
        user = User.objects.get(username=username)
        assert user.is_active, username
        assert not user.is_superuser, username
        assert roles_of(user) == {role}, username
        assert user.check_password(password), username
    assert has_capability(User.objects.get(username="demo-admin"), Capability.MANAGE_USERS)
    assert not has_capability(User.objects.get(username="demo-readonly"),
                              Capability.IMPORT_DATA)


def test_second_load_is_rejected(output):
    with pytest.raises(CommandError, match="already loaded.*--reset"):
        load()
    assert BillingEntity.objects.filter(code="santa-monica").count() == 1
    assert AuditRun.objects.count() == 2


def test_reset_reloads_only_the_demo(output):
    other = BillingEntity.objects.create(name="Riverton Water Department", code="riverton")
    staff = User.objects.create_user("alex", password="correct horse battery")
    records = ChangeRecord.objects.count()
    old_admin = User.objects.get(username="demo-admin")
    first_password = SIGN_IN.search(output).group(1)

    again = load("--reset")

    assert again.startswith("Deleted the earlier demo: audit runs 2, discrepancies 64")
    new_password = SIGN_IN.search(again).group(1)
    assert new_password != first_password
    admin = User.objects.get(username="demo-admin")
    assert admin.pk != old_admin.pk
    assert admin.check_password(new_password)
    assert not admin.check_password(first_password)

    assert BillingEntity.objects.filter(pk=other.pk).exists()
    assert User.objects.filter(pk=staff.pk).exists()
    assert BillingEntity.objects.filter(code="santa-monica").count() == 1
    assert RateSchedule.objects.filter(name__startswith="Demo sewer rates").count() == 1
    assert AuditRun.objects.count() == 2
    assert Discrepancy.objects.count() == 64
    assert Discrepancy.objects.filter(status=Status.VERIFIED_CORRECTED).count() == 32
    # The change records of the deleted demo went with it.
    assert ChangeRecord.objects.count() == records


def test_reset_without_earlier_load():
    output = load("--reset")
    assert "Deleted the earlier demo" not in output
    assert SIGN_IN.search(output) is not None
    assert AuditRun.objects.count() == 2


def test_failed_import_stores_nothing(tmp_path, monkeypatch):
    for name in (PROFILES, MAPPING, SEWER_RATES, BILLING_EXPORT, NEXT_BILLING_EXPORT):
        (tmp_path / name).write_bytes((sample_dir() / name).read_bytes())
    export = tmp_path / NEXT_BILLING_EXPORT
    lines = export.read_bytes().split(b"\r\n")
    fields = lines[1].split(b",")
    fields[-5] = b"12.3x"       # the Amount column of the first line
    lines[1] = b",".join(fields)
    export.write_bytes(b"\r\n".join(lines))
    monkeypatch.setattr("sewerline.apps.core.management.demo.sample_files",
                        lambda: sample_files(tmp_path))

    with pytest.raises(CommandError) as raised:
        load()

    message = str(raised.value)
    assert message.startswith("The demo was not loaded: importing billing_export_2016-05.csv")
    assert "row 2" in message
    assert not BillingEntity.objects.exists()
    assert not User.objects.filter(username__startswith="demo-").exists()
    assert not AuditRun.objects.exists()


def test_reset_keeps_schedule_used_elsewhere(output):
    version = run_of(CYCLE).rate_version
    other = make_cycle(make_entity("riverton"), "2016-03")
    AuditRun.objects.create(cycle=other, rate_version=version)

    with pytest.raises(CommandError, match="used by audit runs of another billing entity"):
        load("--reset")

    # The reset ran in the load's transaction, so the demo is still there.
    assert BillingEntity.objects.filter(code="santa-monica").exists()
    assert User.objects.filter(username="demo-admin").exists()
    assert Discrepancy.objects.count() == 64
