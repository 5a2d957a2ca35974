"""The field loop: verified evidence out to field teams' phones (QField, Mergin Maps), and their
observations and photos back as verified posts and dated street-level references."""
