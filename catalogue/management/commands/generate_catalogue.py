"""python manage.py generate_catalogue --size N --seed S --output PATH [--format csv|xlsx]
[--reference-output PATH] [--reference-share F]."""

from pathlib import Path

from django.core.management.base import BaseCommand

from catalogue.demo_data import generate_catalogue, write_frame
from config.cli import output_path, writing


class Command(BaseCommand):
    help = "生成演示用挂网目录文件（以及四同省际挂网价文件）"

    def add_arguments(self, parser):
        parser.add_argument("--size", type=int, default=20000)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--output", type=Path, required=True)
        parser.add_argument("--format", choices=["csv", "xlsx"], default=None)
        parser.add_argument("--reference-output", type=Path, default=None)
        parser.add_argument(
            "--reference-share", type=float, default=0.05, help="share of listings also priced by other provinces"
        )

    def handle(
        self,
        *args,
        size: int,
        seed: int,
        output: Path,
        format: str | None,
        reference_output,
        reference_share: float,
        **options,
    ):
        output = output_path(output, create_parent=True)
        if reference_output:
            reference_output = output_path(reference_output, create_parent=True)
        fmt = format or ("xlsx" if output.suffix.lower() == ".xlsx" else "csv")
        files = generate_catalogue(size, seed, reference_share=reference_share)
        with writing(output):
            write_frame(files.catalogue, output, fmt)
        catalogue = files.catalogue
        self.stdout.write(
            f"目录：{len(catalogue)} 行，{catalogue['通用名'].nunique()} 个通用名，"
            f"{catalogue['生产企业'].nunique()} 家企业 → {output}"
        )
        if reference_output:
            with writing(reference_output):
                write_frame(files.reference, reference_output, "csv")
            self.stdout.write(f"省际挂网价：{len(files.reference)} 行 → {reference_output}")
        self.stdout.write(str(output))
