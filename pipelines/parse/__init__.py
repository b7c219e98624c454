"""Parse stage: one adapter module per feed, each turning a file into plain records."""
