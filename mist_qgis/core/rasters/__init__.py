"""Rasters for the canvas: post density, semantic localization maps (SeLo) and their SLM metrics,
inundation depth and extent. Nothing here imports QGIS at module level."""
