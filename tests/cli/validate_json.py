#!/usr/bin/env python3
"""Validates shcx JSON output against docs/json/*.schema.json.

Usage: validate_json.py SCHEMA_DIR NAME [DEF] < output
  NAME  decode or verify
  DEF   validate each line of NDJSON against this $defs entry (decodeResult, result)
        instead of the whole document against the schema.
Exit 0 when valid; 1 with the first error on stderr.
"""
import json
import pathlib
import sys

import jsonschema


def main():
    schema_dir, name = pathlib.Path(sys.argv[1]), sys.argv[2]
    definition = sys.argv[3] if len(sys.argv) > 3 else None
    schemas = {}
    for path in schema_dir.glob("*.schema.json"):
        s = json.loads(path.read_text())
        schemas[s["$id"]] = s
    root = schemas["urn:shcx:json:%s.schema.json" % name]
    schema = {"$ref": root["$id"] + "#/$defs/" + definition} if definition else root
    try:  # jsonschema >= 4.18 resolves references through `referencing`
        from referencing import Registry, Resource
        registry = Registry().with_resources((i, Resource.from_contents(s)) for i, s in schemas.items())
        validator = jsonschema.Draft202012Validator(schema, registry=registry)
    except ImportError:  # Debian 12's 4.10
        resolver = jsonschema.RefResolver(root["$id"], root, store=schemas)
        validator = jsonschema.Draft202012Validator(schema, resolver=resolver)
    text = sys.stdin.read()
    documents = [json.loads(line) for line in text.splitlines()] if definition else [json.loads(text)]
    if not documents:
        print("no JSON to validate", file=sys.stderr)
        return 1
    for doc in documents:
        error = jsonschema.exceptions.best_match(validator.iter_errors(doc))
        if error is not None:
            print("%s at %s" % (error.message, "/".join(map(str, error.absolute_path))), file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
