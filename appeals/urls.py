from django.urls import path

from . import views, views_staff

app_name = "appeals"
urlpatterns = [
    # manufacturer
    path("", views.home, name="home"),
    path("flags/<int:pk>/", views.flag_detail, name="flag_detail"),
    path("rounds/<int:round_id>/my-list.xlsx", views.my_export, name="my_export"),
    path("new/", views.appeal_new, name="appeal_new"),
    path("<int:pk>/", views.appeal_detail, name="appeal_detail"),
    path("<int:pk>/edit/", views.appeal_edit, name="appeal_edit"),
    path("<int:pk>/evidence/", views.evidence_upload, name="evidence_upload"),
    path("<int:pk>/evidence/<uuid:evidence_id>/delete/", views.evidence_delete, name="evidence_delete"),
    path("<int:pk>/submit/", views.appeal_submit, name="appeal_submit"),
    path("<int:pk>/withdraw/", views.appeal_withdraw, name="appeal_withdraw"),
    # manufacturer (own company) and staff
    path("evidence/<uuid:pk>/", views.evidence_download, name="evidence_download"),
    # regulator
    path("queue/", views_staff.queue, name="queue"),
    path("review/<int:pk>/", views_staff.review, name="review"),
    path("review/<int:pk>/decide/", views_staff.decide, name="decide"),
    path("rounds/<int:round_id>/", views_staff.round_status, name="round_status"),
    # admin
    path("rounds/<int:round_id>/close/", views_staff.round_close, name="round_close"),
    path("rounds/<int:round_id>/publish-final/", views_staff.round_publish_final, name="round_publish_final"),
    path("rounds/<int:round_id>/final.<str:fmt>", views_staff.final_export, name="final_export"),
    path("rounds/<int:round_id>/final/print/", views_staff.final_print, name="final_print"),
]
