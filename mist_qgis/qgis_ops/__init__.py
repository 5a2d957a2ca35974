"""The few operations that need QGIS itself (projects, layer styles, form widgets); core/ stays
free of QGIS and calls these through plain functions passed in."""
