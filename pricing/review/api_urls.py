"""Review workspace API routes, under /api/pricing/review/ (namespace `pricing_api`)."""

from rest_framework.routers import SimpleRouter

from pricing.review import api

router = SimpleRouter()
router.register("review/rounds", api.RoundViewSet, basename="review-round")
router.register("review/flags", api.FlagViewSet, basename="review-flag")

urlpatterns: list = router.urls
