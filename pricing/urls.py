"""Pricing pages: the engine's (rounds, rule sets, what-if, exports) and the review workspace's."""

from pricing.engine import urls as urls_engine
from pricing.review import urls as urls_review

app_name = "pricing"
urlpatterns = urls_engine.urlpatterns + urls_review.urlpatterns
