"""Routes of the REST API, mounted under /api/ (docs/api.md describes each one)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from sewerline.apps.api import audit_views, import_views, rate_views, views
from sewerline.apps.api.schema import SchemaView

app_name = "api"

# SimpleRouter, not DefaultRouter: the default router's browsable root view would be an
# endpoint without a capability check.
router = SimpleRouter()
router.register("entities", views.EntityViewSet, basename="entity")
router.register("cycles", views.CycleViewSet, basename="cycle")
router.register("accounts", views.AccountViewSet, basename="account")
router.register("rate-schedules", rate_views.RateScheduleViewSet, basename="rate-schedule")
router.register("rate-versions", rate_views.RateVersionViewSet, basename="rate-version")
router.register("imports", import_views.ImportViewSet, basename="import")
router.register("audit-runs", audit_views.AuditRunViewSet, basename="audit-run")
router.register("findings", audit_views.FindingViewSet, basename="finding")
router.register("discrepancies", audit_views.DiscrepancyViewSet, basename="discrepancy")
router.register("jobs", views.JobViewSet, basename="job")

urlpatterns = [
    path("schema/", SchemaView.as_view(), name="schema"),
    *router.urls,
]
