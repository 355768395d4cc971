from rest_framework.routers import SimpleRouter

from . import api

app_name = "appeals_api"
router = SimpleRouter()
router.register("flags", api.NoticeFlagViewSet, basename="flag")
router.register("appeals", api.AppealViewSet, basename="appeal")
urlpatterns = router.urls
