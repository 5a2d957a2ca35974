"""The verification step: analysts' verdicts on photos, the queue they work through, their
agreement, the screening model's quality against their verdicts, and the exports that feed the
verified points and photos onward (maps, reports, retraining)."""
