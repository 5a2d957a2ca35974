"""Fine-grained photo geolocation (LSGL done offline): reference imagery, learned matchers,
segmentation masks, scoring, text-based coarse locations, and the per-post driver.

Nothing here imports QGIS: algorithms and tasks convert layers to plain data first.
"""
