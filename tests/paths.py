"""Where the tests find the project's real files."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = ROOT / "corpus" / "programmes"
ACRONYMS = ROOT / "corpus" / "acronyms.txt"
SOURCE_PAGE = ROOT / "corpus" / "sources" / "actions-ue-oim.fr.txt"
