"""The science and the data. Nothing here imports widgets; most of it imports no QGIS at all."""
