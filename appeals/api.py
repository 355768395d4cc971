"""Appeals API (/api/appeals/). Each viewset has ONE get_queryset doing the tenant filter through
`selectors`; another company's object therefore answers 404. Writes go through `services`."""

from typing import Any

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import IsManufacturerRole, IsStaffRole
from config.bad_input import SafeJSONParser

from . import selectors, services
from .errors import AppealError
from .serializers import (
    AppealCreateSerializer,
    AppealSerializer,
    AppealUpdateSerializer,
    DecisionSerializer,
    ErrorSerializer,
    EvidenceSerializer,
    EvidenceUploadSerializer,
    NoticeFlagSerializer,
    VersionSerializer,
)

# 400 is either field errors ({"field": ["..."]}) or a service refusal ({"detail": "..."}).
ERRORS = {400: OpenApiTypes.OBJECT, 403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}


class AppealErrorsMixin:
    """Service refusals become JSON with the Chinese message (and the current state on 409)."""

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, AppealError):
            body: dict[str, Any] = {"detail": exc.message}
            if exc.current is not None:
                body["current"] = exc.current
            return Response(body, status=exc.status_code)
        return super().handle_exception(exc)  # type: ignore[misc]


class NoticeFlagViewSet(viewsets.ReadOnlyModelViewSet):
    """My flags (manufacturer: own company's published flags; staff: all) with the arithmetic."""

    serializer_class = NoticeFlagSerializer
    permission_classes = [IsAuthenticated]
    filter_backends = [DjangoFilterBackend]
    filterset_fields = ["round", "status", "rule_code", "severity"]

    def get_queryset(self):
        flags = selectors.visible_flags(self.request.user).order_by("round_id", "-ratio", "id")
        return selectors.with_binding_limit(flags)


class AppealViewSet(
    AppealErrorsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Appeals: manufacturers create/edit drafts, upload evidence, submit and withdraw; regulators
    list (the queue, filter by round/status/grounds/company) and decide."""

    serializer_class = AppealSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_fields = ["round", "status", "grounds", "company"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    parser_classes = [SafeJSONParser, FormParser, MultiPartParser]

    def get_queryset(self):
        return selectors.visible_appeals(self.request.user).order_by("-id")

    def get_permissions(self):
        if self.action in ("create", "partial_update", "update", "submit", "withdraw", "evidence"):
            return [IsAuthenticated(), IsManufacturerRole()]
        if self.action == "decide":
            return [IsAuthenticated(), IsStaffRole()]
        return [IsAuthenticated()]

    def _done(self, appeal, code: int = status.HTTP_200_OK) -> Response:
        return Response(AppealSerializer(self.get_queryset().get(pk=appeal.pk)).data, status=code)

    @extend_schema(request=AppealCreateSerializer, responses={201: AppealSerializer, **ERRORS})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = AppealCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        appeal = services.create_draft(
            user=request.user,
            round_id=v["round"],
            flag_ids=v["flags"],
            grounds=v["grounds"],
            statement=v["statement"],
            proposed_price=v.get("proposed_price"),
            proposed_prices=v.get("proposed_prices"),
        )
        return self._done(appeal, status.HTTP_201_CREATED)

    @extend_schema(request=AppealUpdateSerializer, responses={200: AppealSerializer, **ERRORS})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        appeal = self.get_object()
        data = AppealUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        appeal = services.update_draft(
            appeal.pk,
            user=request.user,
            grounds=v["grounds"],
            statement=v["statement"],
            proposed_price=v.get("proposed_price"),
            expected_version=v["lock_version"],
        )
        return self._done(appeal)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.partial_update(request, *args, **kwargs)

    @extend_schema(request=VersionSerializer, responses={200: AppealSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: Any = None) -> Response:
        appeal = self.get_object()
        data = VersionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._done(
            services.submit(appeal.pk, user=request.user, expected_version=data.validated_data["lock_version"])
        )

    @extend_schema(request=VersionSerializer, responses={200: AppealSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: Any = None) -> Response:
        appeal = self.get_object()
        data = VersionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        return self._done(
            services.withdraw(
                appeal.pk, user=request.user, expected_version=v["lock_version"], reason=v.get("reason", "")
            )
        )

    @extend_schema(
        request={"multipart/form-data": EvidenceUploadSerializer}, responses={201: EvidenceSerializer, **ERRORS}
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser])
    def evidence(self, request: Request, pk: Any = None) -> Response:
        appeal = self.get_object()
        data = EvidenceUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.add_evidence(appeal.pk, user=request.user, uploaded_file=data.validated_data["file"])
        return Response(EvidenceSerializer(item).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DecisionSerializer, responses={200: AppealSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: Any = None) -> Response:
        appeal = self.get_object()
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        service = services.revise_decision if v.get("revise") else services.decide
        appeal = service(
            appeal.pk,
            user=request.user,
            outcome=v["outcome"],
            reason=v.get("reason", ""),
            new_limit_price=v.get("new_limit_price"),
            new_limits=v.get("new_limits"),
            expected_version=v["lock_version"],
        )
        return self._done(appeal)
