"""The project package. The Celery application (config.celery) is loaded by whatever sends or runs a
task — every tasks module imports it — not by every process: the data commands (import_catalogue,
import_reference_prices, detect) never touch the broker and start ≈ 0.15–0.4 s sooner without it."""


def __getattr__(name: str):
    if name == "celery_app":  # the usual `from config import celery_app`, loaded on first use
        from .celery import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ("celery_app",)
