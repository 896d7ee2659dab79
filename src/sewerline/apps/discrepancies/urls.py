from django.urls import path

from sewerline.apps.discrepancies import views

app_name = "discrepancies"

urlpatterns = [
    path("", views.DiscrepancyListView.as_view(), name="list"),
    path("export", views.DiscrepancyExportView.as_view(), name="export"),
    path("status", views.BulkStatusView.as_view(), name="bulk_status"),
    path("<int:pk>/", views.DiscrepancyDetailView.as_view(), name="detail"),
    path("<int:pk>/status", views.DiscrepancyStatusView.as_view(), name="status"),
]
