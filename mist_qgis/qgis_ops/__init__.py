"""The few operations that need QGIS itself (qgis.core, Processing): density through QGIS's
kernel density algorithm (density.py), the styles written beside MIST's rasters (styles.py) and
the posts layer's style, map tip and form (layers.py).

`core/` decides what to compute without QGIS; this layer does what only QGIS can. It may import
`core`; `core` never imports it (an architecture test checks both).
"""
