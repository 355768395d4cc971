"""Pricing-engine API (/api/pricing/engine/…): create rounds, progress, exports, rule sets, what-if.

Staff only (what-if: admins). Thin: validate with a serializer, call one service.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsAdminRole, IsStaffRole
from catalogue.models import CatalogueVersion, ReferencePriceSet
from pricing.engine.rounds import DetectionRefused, create_round, latest_reference_set
from pricing.engine.ruleset import RULE_CODES, RuleParamsError
from pricing.engine.whatif import preview_against_base
from pricing.models import CorrectionRound, ExportJob, JobStatus, RuleSet
from pricing.review.exports import FORMATS, STATUS_FILTERS, ExportError, start_export
from pricing.review.serializers import IdField


class RoundCreateSerializer(serializers.Serializer):
    catalogue_version = IdField()
    title = serializers.CharField(max_length=200)
    rule_set_version = IdField(required=False, allow_null=True)
    reference_set = IdField(required=False, allow_null=True)


class RoundProgressSerializer(serializers.ModelSerializer):
    rule_set_version = serializers.IntegerField(source="rule_set.version")

    class Meta:
        model = CorrectionRound
        fields = [
            "id",
            "title",
            "province",
            "status",
            "detection_status",
            "progress",
            "flag_count",
            "message",
            "rule_set_version",
            "catalogue_version",
            "reference_set",
        ]


class ExportRequestSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=FORMATS)
    status = serializers.ChoiceField(choices=STATUS_FILTERS, default="all")
    filters = serializers.DictField(child=serializers.CharField(), required=False)


class ExportJobSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExportJob
        fields = [
            "id",
            "round",
            "format",
            "status_filter",
            "filters",
            "state",
            "progress",
            "row_count",
            "message",
            "requested_at",
            "finished_at",
        ]


class RuleSetSerializer(serializers.ModelSerializer):
    class Meta:
        model = RuleSet
        fields = ["id", "version", "name", "params", "note", "created_at"]


class WhatIfSerializer(serializers.Serializer):
    catalogue_version = IdField()
    tolerance_abs = serializers.DecimalField(max_digits=12, decimal_places=4, required=False, min_value=0)
    tolerance_rel = serializers.DecimalField(max_digits=12, decimal_places=6, required=False, min_value=0)
    k_content = serializers.DecimalField(max_digits=12, decimal_places=6, required=False)
    k_volume = serializers.DecimalField(max_digits=12, decimal_places=6, required=False)
    k_pack = serializers.DecimalField(max_digits=12, decimal_places=6, required=False)
    rules_enabled = serializers.ListField(child=serializers.ChoiceField(choices=RULE_CODES), required=False)


class WhatIfResultSerializer(serializers.Serializer):
    base = serializers.DictField(child=serializers.IntegerField())
    changed = serializers.DictField(child=serializers.IntegerField())


class RoundCreateView(APIView):
    permission_classes = [IsStaffRole]

    @extend_schema(request=RoundCreateSerializer, responses={201: RoundProgressSerializer}, summary=_("创建纠偏批次"))
    def post(self, request):
        ser = RoundCreateSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = ser.validated_data
        version = get_object_or_404(CatalogueVersion, pk=data["catalogue_version"])
        rule_set = None
        if data.get("rule_set_version") is not None:
            rule_set = get_object_or_404(RuleSet, version=data["rule_set_version"])
        ref = (
            get_object_or_404(ReferencePriceSet, pk=data["reference_set"])
            if data.get("reference_set") is not None
            else latest_reference_set()
        )
        try:
            rnd = create_round(
                catalogue_version=version, title=data["title"], user=request.user, rule_set=rule_set, reference_set=ref
            )
        except (DetectionRefused, RuleParamsError) as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        rnd.refresh_from_db()
        return Response(RoundProgressSerializer(rnd).data, status=status.HTTP_201_CREATED)


class RoundProgressView(APIView):
    permission_classes = [IsStaffRole]

    @extend_schema(responses=RoundProgressSerializer, summary=_("纠偏计算进度"))
    def get(self, request, round_id: int):
        rnd = get_object_or_404(CorrectionRound.objects.select_related("rule_set"), pk=round_id)
        return Response(RoundProgressSerializer(rnd).data)


class ExportStartView(APIView):
    permission_classes = [IsStaffRole]

    @extend_schema(request=ExportRequestSerializer, responses={202: ExportJobSerializer}, summary=_("开始导出"))
    def post(self, request, round_id: int):
        rnd = get_object_or_404(CorrectionRound, pk=round_id)
        ser = ExportRequestSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        try:
            job = start_export(
                rnd,
                fmt=ser.validated_data["format"],
                status=ser.validated_data["status"],
                user=request.user,
                filters=ser.validated_data.get("filters") or {},
            )
        except ExportError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        job.refresh_from_db()
        return Response(ExportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ExportStatusView(APIView):
    permission_classes = [IsStaffRole]

    @extend_schema(responses=ExportJobSerializer, summary=_("导出任务状态"))
    def get(self, request, job_id: int):
        return Response(ExportJobSerializer(get_object_or_404(ExportJob, pk=job_id)).data)


class ExportDownloadView(APIView):
    permission_classes = [IsStaffRole]

    @extend_schema(responses={200: OpenApiResponse(description=_("CSV 或 XLSX 文件"))}, summary=_("下载导出文件"))
    def get(self, request, job_id: int):
        job = get_object_or_404(ExportJob, pk=job_id)
        path = Path(job.file_path).resolve() if job.file_path else None
        root = Path(settings.PRIVATE_ROOT).resolve()
        if job.state != JobStatus.DONE or path is None or root not in path.parents or not path.exists():
            raise Http404(_("导出文件尚未生成"))
        name = f"纠偏清单-批次{job.round_id}-{job.status_filter}.{job.format}"
        return FileResponse(path.open("rb"), as_attachment=True, filename=name)


class RuleSetListView(APIView):
    permission_classes = [IsStaffRole]

    @extend_schema(responses=RuleSetSerializer(many=True), summary=_("规则集版本列表"))
    def get(self, request):
        return Response(RuleSetSerializer(RuleSet.objects.order_by("-version"), many=True).data)


class WhatIfView(APIView):
    permission_classes = [IsAdminRole]

    @extend_schema(request=WhatIfSerializer, responses=WhatIfResultSerializer, summary=_("规则试算（不保存）"))
    def post(self, request):
        ser = WhatIfSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        version = get_object_or_404(CatalogueVersion, pk=data.pop("catalogue_version"))
        changes = {k: (str(v) if k != "rules_enabled" else v) for k, v in data.items()}
        try:
            counts = preview_against_base(version, changes, reference_set=latest_reference_set())
        except RuleParamsError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        return Response(counts)
