"""URLs of the audit pages, under /audits/."""

from django.urls import path

from sewerline.apps.audits import views

app_name = "audits"

urlpatterns = [
    path("", views.RunListView.as_view(), name="run_list"),
    path("start/", views.StartAuditView.as_view(), name="start"),
    path("<int:pk>/", views.RunDetailView.as_view(), name="run"),
    path("<int:pk>/progress/", views.RunProgressView.as_view(), name="progress"),
    path("<int:pk>/findings/", views.FindingListView.as_view(), name="findings"),
]
