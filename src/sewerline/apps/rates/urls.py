from django.urls import path

from sewerline.apps.rates import views

app_name = "rates"

urlpatterns = [
    path("", views.ScheduleListView.as_view(), name="list"),
    path("new", views.ScheduleCreateView.as_view(), name="create"),
    path("<int:pk>/", views.ScheduleDetailView.as_view(), name="schedule"),
    path("<int:pk>/upload", views.VersionUploadView.as_view(), name="upload"),
    path("versions/<int:pk>/", views.VersionDetailView.as_view(), name="version"),
    path("versions/<int:pk>/publish", views.VersionPublishView.as_view(), name="publish"),
]
