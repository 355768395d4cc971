"""Pricing pages: the engine's (rounds, rule sets, what-if, exports) and the review workspace's."""

from . import urls_engine, urls_review

app_name = "pricing"
urlpatterns = urls_engine.urlpatterns + urls_review.urlpatterns
