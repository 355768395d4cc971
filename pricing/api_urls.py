from . import api_urls_engine, api_urls_review

app_name = "pricing_api"
urlpatterns = api_urls_engine.urlpatterns + api_urls_review.urlpatterns
