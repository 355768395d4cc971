"""Which task runs which kind of job (任务种类)."""

KINDS: dict[str, str] = {
    "catalogue.import": "catalogue.tasks.import_catalogue_version",
    "reference.import": "catalogue.tasks.import_reference_set",
    "round.detect": "pricing.tasks.detect_round",
    "export": "pricing.tasks.run_export",
    "email.decision": "appeals.tasks.send_decision_email",
}


def task_name(kind: str) -> str:
    return KINDS[kind]
