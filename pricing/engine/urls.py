"""Pricing-engine pages (namespace `pricing`)."""

from django.urls import path

from pricing.engine import coverage_views, views

urlpatterns: list = [
    path("rounds/new/", views.round_create, name="round_create"),
    path("rounds/<int:round_id>/progress/", views.round_progress, name="round_progress"),
    path("rounds/<int:round_id>/export/", views.export_start, name="export_start"),
    path("exports/<int:job_id>/", views.export_status, name="export_status"),
    path("exports/<int:job_id>/download/", views.export_download, name="export_download"),
    path("whatif/", views.whatif, name="whatif"),
    path("rounds/<int:round_id>/blind-spots/", coverage_views.blind_spots_section, name="round_blind_spots"),
    path(
        "rounds/<int:round_id>/blind-spots.<str:fmt>",
        coverage_views.blind_spots_download,
        name="round_blind_spots_download",
    ),
    path("rounds/<int:round_id>/why/", coverage_views.why_not_flagged, name="round_why_not_flagged"),
]
