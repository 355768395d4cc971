"""Celery application. Without a broker URL tasks run in-process (eager)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _connect_signals() -> None:
    # request_id on the audit rows a task writes (issue 11); here rather than in an AppConfig.ready so
    # that processes which never run a task do not import Celery at all
    from audit.request_id import connect_celery

    connect_celery()


_connect_signals()
