"""Media: ffmpeg graphs, probing, captions."""
