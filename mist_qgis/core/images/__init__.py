"""Photo acquisition: URL and path guards, safe decoding, the content-addressed cache, the
fetcher, near-duplicate detection and stable video frames.

Every byte here comes from a stranger's post, so each module assumes hostile input: the fetcher
only talks to public http(s) hosts, local paths stay under their media root, and an image counts
as an image only once Pillow has decoded every pixel of it within a pixel budget.
"""
