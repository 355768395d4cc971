from pricing.engine import api_urls as api_urls_engine
from pricing.review import api_urls as api_urls_review

app_name = "pricing_api"
urlpatterns = api_urls_engine.urlpatterns + api_urls_review.urlpatterns
