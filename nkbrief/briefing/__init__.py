"""The briefing pack: build_pack(frame, options, progress) -> Path, its sheets and its look."""
