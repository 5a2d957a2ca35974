"""QgsTask wrappers: plain data in, result object out, layers added in finished()."""
