"""The plugin's version (also in metadata.txt), importable without importing the plugin."""

__version__ = "0.1.0"
