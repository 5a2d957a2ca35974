"""Docks and dialogs of the plugin (widgets only; the work happens in core and tasks)."""
