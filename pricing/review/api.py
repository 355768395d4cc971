"""Review workspace API (审核接口): rounds, flags, decisions, publication. Staff only.

The role/tenant filter is in ONE place, `ReviewQuerysetMixin.get_queryset()` (via pricing.selectors);
a manufacturer never gets past `IsStaffRole` (403). Writes go through pricing.review / publication.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import IsAdminRole, IsStaffRole
from pricing.models import CorrectionRound, Flag
from pricing.review import selectors
from pricing.review.decisions import DecisionConflict, DecisionError, bulk_decide, decide
from pricing.review.filters import FlagFilter
from pricing.review.publication import PendingFlags, PublishError, publish_notice
from pricing.review.serializers import (
    BulkDecisionRequestSerializer,
    BulkDecisionResultSerializer,
    ConflictSerializer,
    DecisionRequestSerializer,
    FlagDetailSerializer,
    FlagSerializer,
    PublishRequestSerializer,
    RoundDetailSerializer,
    RoundSerializer,
)


class ReviewQuerysetMixin:
    """The one place deciding which rows an API user may see."""

    permission_classes = [IsStaffRole]
    request: Request

    def get_queryset(self) -> QuerySet:
        if self.queryset_kind == "round":
            return selectors.rounds_for(self.request.user)
        return selectors.flags_for(self.request.user).select_related(
            "listing", "manufacturer", "benchmark_listing", "round"
        )


@extend_schema_view(
    list=extend_schema(summary=_("纠偏批次列表")),
    retrieve=extend_schema(summary=_("纠偏批次详情（含统计）"), responses=RoundDetailSerializer),
)
class RoundViewSet(ReviewQuerysetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset_kind = "round"
    serializer_class = RoundSerializer
    queryset = CorrectionRound.objects.none()

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        rnd = self.get_object()
        data = RoundDetailSerializer(rnd, context={"counts": selectors.round_counts(rnd.pk)}).data
        return Response(data)

    @extend_schema(
        summary=_("发布公示（管理员）"),
        request=PublishRequestSerializer,
        responses={
            200: RoundSerializer,
            400: OpenApiResponse(description=_("不能公示（原因见 detail；仍有待审核记录时 pending 给出条数）")),
        },
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAdminRole])
    def publish(self, request: Request, pk: str | None = None) -> Response:
        rnd = self.get_object()
        body = PublishRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            rnd = publish_notice(
                rnd.pk,
                user=request.user,
                deadline=body.validated_data["deadline"],
                notice_text=body.validated_data["notice_text"],
                defer_pending=body.validated_data["defer_pending"],
                expected_pending=body.validated_data["expected_pending"],
                evidence_required=body.validated_data["evidence_required"],
            )
        except PublishError as exc:
            body = {"detail": exc.message}
            if isinstance(exc, PendingFlags):
                body["pending"] = exc.pending
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from None
        return Response(RoundSerializer(rnd).data)


@extend_schema_view(
    list=extend_schema(
        summary=_("纠偏记录列表（与页面相同的筛选）"),
        parameters=[
            OpenApiParameter("round", int, required=True, description=_("纠偏批次 id")),
            OpenApiParameter("rule", str),
            OpenApiParameter("severity", str),
            OpenApiParameter("status", str),
            OpenApiParameter("manufacturer", int),
            OpenApiParameter("maker", str, description=_("生产企业名称（包含）")),
            OpenApiParameter("q", str, description=_("通用名（包含）或挂网编号（精确）")),
            OpenApiParameter("form_group", str),
            OpenApiParameter("ratio_min", float),
            OpenApiParameter("ratio_max", float),
            OpenApiParameter("sort", str, enum=["-ratio", "ratio", "-overcharge", "overcharge", "name", "-name"]),
        ],
    ),
    retrieve=extend_schema(summary=_("纠偏记录详情（含计算过程与处理记录）"), responses=FlagDetailSerializer),
)
class FlagViewSet(ReviewQuerysetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset_kind = "flag"
    serializer_class = FlagSerializer
    queryset = Flag.objects.none()
    filter_backends: list = []

    def get_serializer_class(self):
        return FlagDetailSerializer if self.action == "retrieve" else FlagSerializer

    def list(self, request: Request, *args, **kwargs) -> Response:
        try:
            round_id = int(request.query_params.get("round", ""))
        except ValueError:
            raise ValidationError({"round": _("请指定纠偏批次 round。")}) from None
        rnd = get_object_or_404(selectors.rounds_for(request.user), pk=round_id)
        flt = FlagFilter(
            request.query_params,
            queryset=self.get_queryset().filter(round=rnd),
            catalogue_version_id=rnd.catalogue_version_id,
        )
        if not flt.is_valid():
            raise ValidationError(flt.errors)
        page = self.paginate_queryset(flt.qs)
        return self.get_paginated_response(FlagSerializer(page, many=True).data)

    @extend_schema(
        summary=_("审核决定：确认纠偏 / 不予纠偏 / 调整限价（仅待审核）；改判 revise（须理由）"),
        request=DecisionRequestSerializer,
        responses={
            200: FlagDetailSerializer,
            400: OpenApiResponse(description=_("理由缺失、金额无效或批次已冻结")),
            409: ConflictSerializer,
        },
    )
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str | None = None) -> Response:
        flag = self.get_object()
        body = DecisionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            flag = decide(
                flag.pk,
                data["action"],
                user=request.user,
                expected_version=data["expected_version"],
                reason=data["reason"],
                new_limit=data.get("new_limit"),
                to_action=data.get("to_action", ""),
            )
        except DecisionConflict as exc:
            return Response({"detail": exc.message, "current": exc.current_state}, status=status.HTTP_409_CONFLICT)
        except DecisionError as exc:
            return Response({"detail": exc.message}, status=status.HTTP_400_BAD_REQUEST)
        return Response(FlagDetailSerializer(self.get_queryset().get(pk=flag.pk)).data)

    @extend_schema(
        summary=_("批量审核决定"),
        request=BulkDecisionRequestSerializer,
        responses={200: BulkDecisionResultSerializer, 400: OpenApiResponse(description=_("批量操作被拒绝"))},
    )
    @action(detail=False, methods=["post"], url_path="bulk-decide")
    def bulk_decide(self, request: Request) -> Response:
        body = BulkDecisionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        ids = list(self.get_queryset().filter(pk__in=data["flag_ids"]).values_list("pk", flat=True))
        versions = {int(k): v for k, v in (data.get("expected_versions") or {}).items() if str(k).isdigit()}
        try:
            result = bulk_decide(
                ids, data["action"], user=request.user, reason=data["reason"], expected_versions=versions
            )
        except DecisionError as exc:
            return Response({"detail": exc.message}, status=status.HTTP_400_BAD_REQUEST)
        return Response({"done": result.done, "skipped": {str(k): v for k, v in result.skipped.items()}})
