"""URLs of the import wizard and the import list, under /imports/."""

from django.urls import path

from sewerline.apps.imports import views

app_name = "imports"

urlpatterns = [
    path("", views.ImportListView.as_view(), name="list"),
    path("new/", views.UploadView.as_view(), name="upload"),
    path("<int:pk>/", views.ImportDetailView.as_view(), name="detail"),
    path("<int:pk>/map/", views.MappingView.as_view(), name="map"),
    path("<int:pk>/map/rate-codes/", views.RateCodesView.as_view(), name="rate_codes"),
    path("<int:pk>/check/", views.CheckView.as_view(), name="check"),
    path("<int:pk>/confirm/", views.ConfirmView.as_view(), name="confirm"),
    path("<int:pk>/progress/", views.ProgressView.as_view(), name="progress"),
]
