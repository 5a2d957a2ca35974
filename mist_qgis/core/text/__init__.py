"""Post text screening: normalisation, features keyed by post, team categories, keyword rules and
multi-label heads. Works on posts with or without a photo."""
