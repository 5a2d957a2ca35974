"""The Verify dock's facts pane: what is known about the photo on screen, as escaped HTML.

Post text, ids and URLs are hostile: everything is escaped, and links are only links (the pane
never loads anything from them).
"""

from __future__ import annotations

import html
import json

from ..core.verify.records import QueueRow
from ..i18n import tr
from .verify_model import verdict_text

EXIF_FACTS = ("Make", "Model", "LensModel", "DateTimeOriginal", "OffsetTimeOriginal", "FocalLength",
              "ExposureTime", "FNumber", "ISOSpeedRatings", "Orientation", "GPSLatitude", "GPSLongitude",
              "GPSAltitude", "GPSImgDirection", "Software")


def _safe_link(url: str | None) -> str:
    if not url:
        return ""
    text = html.escape(url)
    if url.lower().startswith(("http://", "https://")):
        return f'<a href="{html.escape(url, quote=True)}">{text}</a>'
    return text


def facts_html(row: QueueRow) -> str:
    """The facts pane: post, text, source links (never loaded), place, scores, verdict, EXIF."""
    e = html.escape
    when = (row.timestamp or tr("no time")).replace("T", " ")
    parts = [f"<b>{e(row.platform)}</b> · {e(row.post_id)} · {e(when)}"]
    if row.text:
        parts.append(f"<p>{e(row.text[:5000])}</p>")
    links = [link for link in (_safe_link(row.url), _safe_link(row.media_url)) if link]
    if links:
        parts.append(tr("Source: ") + " · ".join(links))
    facts = []
    if row.lon is not None:
        facts.append(tr("location {lat:.5f}, {lon:.5f} ({source})").format(lat=row.lat, lon=row.lon,
                                                                           source=e(row.geo_source)))
    else:
        facts.append(tr("not placed yet"))
    if row.score is not None:
        facts.append(tr("screening score {s:.2f}").format(s=row.score))
    if row.geo_confidence is not None:
        facts.append(tr("geolocation confidence {c:.2f} (reference {ref})").format(
            c=row.geo_confidence, ref=e(row.match_ref or "")))
    if row.duplicate_of:
        facts.append(tr("near-duplicate of photo {fid}").format(fid=row.duplicate_of))
    if row.width and row.height:
        facts.append(f"{row.width} × {row.height} px")
    parts.append("<br>".join(facts))
    if row.verdict:
        parts.append(tr("<b>Verdict:</b> {v} by {who} at {when}").format(
            v=e(verdict_text(row)), who=e(row.verified_by or ""),
            when=e((row.verified_at or "").replace("T", " "))))
        if row.note:
            parts.append(tr("Note: {note}").format(note=e(row.note)))
    exif = _exif_facts(row.exif)
    if exif:
        parts.append("<small>" + "<br>".join(f"{e(k)}: {e(v)}" for k, v in exif) + "</small>")
    return "<br>".join(parts)


def _exif_facts(exif_json: str | None) -> list[tuple[str, str]]:
    if not exif_json:
        return []
    try:
        data = json.loads(exif_json)
    except ValueError:
        return [("EXIF", tr("unreadable"))]
    if not isinstance(data, dict):
        return []
    return [(k, str(data[k])[:120]) for k in EXIF_FACTS if k in data]
