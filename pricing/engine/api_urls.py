"""Pricing-engine API routes, under /api/pricing/engine/ (namespace `pricing_api`)."""

from django.urls import path

from pricing.engine import api

urlpatterns: list = [
    path("engine/rounds/", api.RoundCreateView.as_view(), name="engine-round-create"),
    path("engine/rounds/<int:round_id>/progress/", api.RoundProgressView.as_view(), name="engine-round-progress"),
    path("engine/rounds/<int:round_id>/exports/", api.ExportStartView.as_view(), name="engine-export-start"),
    path("engine/exports/<int:job_id>/", api.ExportStatusView.as_view(), name="engine-export-status"),
    path("engine/exports/<int:job_id>/download/", api.ExportDownloadView.as_view(), name="engine-export-download"),
    path("engine/rule-sets/", api.RuleSetListView.as_view(), name="engine-rule-sets"),
    path("engine/whatif/", api.WhatIfView.as_view(), name="engine-whatif"),
]
