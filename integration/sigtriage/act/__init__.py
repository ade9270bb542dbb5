"""Acting on a triage decision: the outbox of planned actions and the connectors that carry them out."""
