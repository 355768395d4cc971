from django.urls import path

from compliance import views

app_name = "compliance"
urlpatterns = [
    path("rounds/<int:round_id>/", views.round_compliance, name="round"),
    path("rounds/<int:round_id>/check/", views.start_check, name="start_check"),
    path("rounds/<int:round_id>/deadline/", views.set_deadline, name="set_deadline"),
    path("rounds/<int:round_id>/escalation/", views.confirm_escalation, name="confirm_escalation"),
    path("escalations/<int:escalation_id>/export.<str:fmt>", views.escalation_export, name="escalation_export"),
    path("checks/<int:check_id>/results.csv", views.check_csv, name="check_csv"),
    path("mine/", views.mine, name="mine"),
]
