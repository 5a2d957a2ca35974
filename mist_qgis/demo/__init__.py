"""The end-to-end demo (`make demo`): the sample collection through every stage, and the flood map
drawn by QGIS. Nothing here is imported by the plugin at start-up."""
