"""Role checks shared by views and API views. Tenant filtering lives in each app's selectors."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from rest_framework.permissions import BasePermission

from .models import Role

STAFF_ROLES = (Role.REGULATOR, Role.ADMIN)


def _has_role(user: Any, roles: tuple[str, ...]) -> bool:
    return bool(user and user.is_authenticated and getattr(user, "role", None) in roles)


def role_required(*roles: str) -> Callable:
    """View decorator: login required, then 403 unless the user has one of `roles`."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not _has_role(request.user, roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.required_roles = roles  # type: ignore[attr-defined]
        return wrapped

    return decorator


staff_required = role_required(Role.REGULATOR, Role.ADMIN)
admin_required = role_required(Role.ADMIN)
manufacturer_required = role_required(Role.MANUFACTURER)


class IsStaffRole(BasePermission):
    """Regulators and admins."""

    def has_permission(self, request: Any, view: Any) -> bool:
        return _has_role(request.user, STAFF_ROLES)


class IsAdminRole(BasePermission):
    def has_permission(self, request: Any, view: Any) -> bool:
        return _has_role(request.user, (Role.ADMIN,))


class IsManufacturerRole(BasePermission):
    def has_permission(self, request: Any, view: Any) -> bool:
        return _has_role(request.user, (Role.MANUFACTURER,))
