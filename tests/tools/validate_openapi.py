"""Checks an OpenAPI 3.1 document with openapi-spec-validator, an implementation
independent of the one that wrote it (the gateway's utoipa).

Usage: validate_openapi.py DOCUMENT.json

Exits 0 when the document is valid. Otherwise prints each error with the JSON
path where it is (`paths//v1/orders/get/responses/200: 'description' is a
required property`) and exits 1.
"""

import json
import sys

from openapi_spec_validator import OpenAPIV31SpecValidator

# Enough errors to see the pattern; a broken generator repeats one error per
# operation.
MAX_SHOWN = 20


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        document = json.load(f)
    version = str(document.get("openapi", ""))
    if not version.startswith("3.1."):
        print(f"openapi: {version!r} is not 3.1.x; this checks OpenAPI 3.1 only")
        return 1
    errors = list(OpenAPIV31SpecValidator(document).iter_errors())
    for error in errors[:MAX_SHOWN]:
        where = "/".join(str(part) for part in error.absolute_path) or "(document)"
        print(f"{where}: {error.message}")
    if len(errors) > MAX_SHOWN:
        print(f"... and {len(errors) - MAX_SHOWN} more")
    if errors:
        print(f"{len(errors)} error(s): not a valid OpenAPI 3.1 document")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
