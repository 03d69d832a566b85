"""tools/compare.py: pretraining arms on paired seeds, probed, with intervals and verdicts."""
