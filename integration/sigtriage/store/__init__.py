"""The embedded SQLite store: prevalence of certificates and publishers, and (triage) cases, audit and outbox."""
