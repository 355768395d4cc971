"""Errors raised while reading and validating an upload. Messages are Chinese (shown to users)."""

from dataclasses import asdict, dataclass

from django.utils.translation import gettext as _

MAX_CELL_CHARS = 200


@dataclass(frozen=True)
class RowError:
    """One problem in an uploaded file: row number as in the file (header = row 1), column, value."""

    row: int
    column: str
    value: str
    message: str

    def __post_init__(self) -> None:
        # A hostile cell can be megabytes long: keep what a person can read (issue 11).
        for field in ("column", "value"):
            text = getattr(self, field)
            if isinstance(text, str) and len(text) > MAX_CELL_CHARS:
                object.__setattr__(self, field, text[:MAX_CELL_CHARS] + "…")

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        where = _("第%(row)d行") % {"row": self.row} if self.row else _("文件")
        column = f"「{self.column}」" if self.column else ""
        value = f"（值：{self.value}）" if self.value else ""
        return f"{where}{column}：{self.message}{value}"


class IngestRejected(Exception):
    """The file cannot become a catalogue version. `errors` lists every problem found."""

    def __init__(self, message: str, errors: list[RowError] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors: list[RowError] = errors if errors is not None else [RowError(0, "", "", message)]


class DuplicateImport(IngestRejected):
    """The same file (same SHA-256) is already active (or being imported) for the province."""
