"""Reads a PDF with an independent reader and prints what it says as JSON, for
tests/it/whatsapp.rs.

    python3 tests/tools/read_pdf.py < document.pdf

pypdf (https://pypi.org/project/pypdf/) opens the file as any reader does (its
cross-reference table, page tree, fonts and their encodings) and extracts each
page's text; a file it cannot read is an error. Prints
{"pages": N, "text": "...", "title": "..."}.
"""

import io
import json
import sys

from pypdf import PdfReader


def main():
    reader = PdfReader(io.BytesIO(sys.stdin.buffer.read()), strict=True)
    text = "\n".join(page.extract_text() for page in reader.pages)
    title = reader.metadata.title if reader.metadata else None
    json.dump({"pages": len(reader.pages), "text": text, "title": title}, sys.stdout)


if __name__ == "__main__":
    main()
