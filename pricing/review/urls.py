"""Review workspace pages (namespace `pricing`): staff only; publishing admin only."""

from django.urls import path

from audit import views as audit_views
from pricing.review import views

urlpatterns: list = [
    path("rounds/", views.round_list, name="round_list"),
    path("rounds/<int:round_id>/", views.round_overview, name="round_overview"),
    path("rounds/<int:round_id>/flags/", views.flag_list, name="flag_list"),
    path("rounds/<int:round_id>/flags/export.csv", views.flag_export_csv, name="flag_export_csv"),
    path("rounds/<int:round_id>/flags/bulk/", views.flag_bulk_decide, name="flag_bulk_decide"),
    path("rounds/<int:round_id>/publish/", views.round_publish, name="round_publish"),
    path("rounds/<int:round_id>/notice-preview/", views.notice_preview_page, name="notice_preview"),
    path("rounds/<int:round_id>/comparison/", views.round_comparison, name="round_comparison"),
    path("rounds/<int:round_id>/comparison.csv", views.round_comparison_csv, name="round_comparison_csv"),
    path("flags/<int:flag_id>/", views.flag_detail, name="flag_detail"),
    # 审计日志 for regulators and admins (the audit app's pages, in the review workspace)
    path("audit/", audit_views.timeline, name="audit"),
    path("audit/export.csv", audit_views.timeline_csv, name="audit_csv"),
    path("flags/<int:flag_id>/decide/", views.flag_decide, name="flag_decide"),
]
