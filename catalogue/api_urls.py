from django.urls import path

from . import api

app_name = "catalogue_api"
urlpatterns = [
    path("versions/", api.VersionList.as_view(), name="version_list"),
    path("versions/upload/", api.VersionUpload.as_view(), name="version_upload"),
    path("versions/<int:pk>/", api.VersionDetail.as_view(), name="version_detail"),
    path("listings/", api.ListingList.as_view(), name="listing_list"),
]
