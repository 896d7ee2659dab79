from django.urls import path

from sewerline.apps.profiles import views

app_name = "profiles"

urlpatterns = [
    path("", views.ProfileListView.as_view(), name="list"),
    path("export", views.ProfileExportView.as_view(), name="export"),
    path("<int:pk>/", views.AccountDetailView.as_view(), name="detail"),
    path("<int:pk>/edit", views.AccountEditView.as_view(), name="edit"),
]
