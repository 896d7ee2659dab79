from django.urls import path

from sewerline.apps.entities import views

app_name = "entities"

urlpatterns = [
    path("", views.EntityListView.as_view(), name="list"),
    path("new", views.EntityFormView.as_view(), name="create"),
    path("<int:pk>/", views.EntityDetailView.as_view(), name="detail"),
    path("<int:pk>/edit", views.EntityFormView.as_view(), name="edit"),
    path("<int:pk>/contacts/new", views.ContactFormView.as_view(), name="contact_create"),
    path("<int:pk>/contacts/<int:contact_pk>/edit", views.ContactFormView.as_view(),
         name="contact_edit"),
    path("<int:pk>/contacts/<int:contact_pk>/delete", views.ContactDeleteView.as_view(),
         name="contact_delete"),
    path("<int:pk>/mappings/<int:mapping_pk>/", views.MappingDetailView.as_view(),
         name="mapping"),
    path("<int:pk>/cycles/new", views.CycleCreateView.as_view(), name="cycle_create"),
    path("<int:pk>/cycles/<int:cycle_pk>/budget", views.BudgetEditView.as_view(),
         name="budget"),
]
