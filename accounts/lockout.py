"""Login lockout (登录锁定) that one client cannot turn against everybody.

django-axes counts failures per (username, client address) pair: five wrong passwords from one
address lock that username from that address only. On top, a per-username ceiling counts every
failure for the username from all addresses within the cool-off window; reaching it locks the
account everywhere (a password-spraying botnet) and tells the administrators once.
"""

import logging

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Sum
from django.http import HttpRequest
from django.utils.translation import gettext as _

from audit.services import record

from .models import Role, User

log = logging.getLogger(__name__)


def username_failures(username: str | None, request: HttpRequest) -> int:
    """Failures for this username from every address within the cool-off window."""
    if not username:
        return 0
    attempts = AccessAttempt.objects.filter(username=username)
    if settings.AXES_COOLOFF_TIME is not None:
        attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


def notify_admins_of_ceiling(username: str, ip_address: str, failures: int) -> None:
    """One audit row and one e-mail to the active administrators."""
    record(
        actor=None,
        action="login.username_locked",
        object_type="accounts.User",
        object_id=username[:64],
        after={"failures": failures, "last_ip": ip_address},
        reason=_("登录失败次数达到账户上限"),
    )
    recipients = list(
        User.objects.filter(role=Role.ADMIN, is_active=True).exclude(email="").values_list("email", flat=True)
    )
    if recipients:
        send_mail(
            _("账户“%(username)s”因登录失败过多已被锁定") % {"username": username},
            _("一小时内来自多个地址的登录失败共 %(failures)s 次，最近一次来自 %(ip)s。账户已锁定一小时。")
            % {"failures": failures, "ip": ip_address},
            settings.DEFAULT_FROM_EMAIL,
            recipients,
            fail_silently=True,
        )
    log.warning("login ceiling reached for username %r (%s failures, last from %s)", username, failures, ip_address)


class PairAndCeilingHandler(AxesDatabaseHandler):
    """AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]] plus LOGIN_USERNAME_FAILURE_CEILING."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        pair = super().get_failures(request, credentials)
        username = get_client_username(request, credentials)
        if username_failures(username, request) >= settings.LOGIN_USERNAME_FAILURE_CEILING:
            return max(pair, get_failure_limit(request, credentials))
        return pair

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs) -> None:
        already_locked = request is not None and getattr(request, "axes_locked_out", False)
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        if request is None or already_locked:
            return
        username = get_client_username(request, credentials)
        total = username_failures(username, request)
        if total == settings.LOGIN_USERNAME_FAILURE_CEILING:
            notify_admins_of_ceiling(username, request.axes_ip_address, total)
