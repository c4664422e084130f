"""Write data/sample_crm_export.csv: the demo CRM export behind Calibrate's "Try the sample export".

A year of HubSpot-style deals with "Date entered …" stage-history columns, from a fixed
seed, so the file in the repository is exactly what this script writes (a test checks it):

    python data/make_sample_export.py
"""

from __future__ import annotations

from pathlib import Path

from planner.demo import demo_crm_export

SAMPLE = Path(__file__).resolve().parent / "sample_crm_export.csv"
SAMPLE_DEALS = 1_500


def sample_csv() -> bytes:
    """The sample export's bytes."""
    return demo_crm_export(SAMPLE_DEALS).to_csv(index=False, lineterminator="\n").encode("utf-8")


if __name__ == "__main__":
    SAMPLE.write_bytes(sample_csv())
    print(f"wrote {SAMPLE} ({SAMPLE.stat().st_size:,} bytes)")
