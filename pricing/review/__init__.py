"""The review workspace: flag lists and details, decisions, publication, explanations, charts, exports."""
