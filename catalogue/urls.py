from django.urls import path

from . import correction_views, profile_views, views

app_name = "catalogue"
urlpatterns = [
    path("", views.version_list, name="version_list"),
    path("upload/", views.version_upload, name="version_upload"),
    path("reference-prices/upload/", views.reference_upload, name="reference_upload"),
    path("<int:pk>/", views.version_detail, name="version_detail"),
    path("<int:pk>/progress/", views.version_progress, name="version_progress"),
    path("<int:pk>/errors.xlsx", views.version_errors_xlsx, name="version_errors_xlsx"),
    path("corrections/", correction_views.corrections, name="corrections"),
    path("<int:pk>/mapping/", profile_views.version_mapping, name="version_mapping"),
    path("profiles/", profile_views.profile_list, name="profile_list"),
    path("profiles/<str:name>/", profile_views.profile_edit, name="profile_edit"),
]
