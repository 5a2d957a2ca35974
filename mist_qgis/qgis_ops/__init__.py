"""The few operations that need QGIS itself (qgis.core, Processing): density through QGIS's
kernel density algorithm, and the styles written beside MIST's rasters and layers.

`core/` decides what to compute without QGIS; this layer does what only QGIS can. It may import
`core`; `core` never imports it (an architecture test checks both).
"""
