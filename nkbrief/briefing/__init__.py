"""The briefing pack: build_pack(frame, options, progress) -> Path, its sheets and its look."""

#: Sections in their fixed order, with their sheet titles.
SECTIONS: dict[str, str] = {
    "cover": "Cover",
    "summary": "Summary",
    "event_log": "Event log",
    "missiles": "Missiles",
    "timeline": "Timeline",
    "context": "Context & timing",
    "stakeholders": "Stakeholder views",
    "sources": "Sources",
}
