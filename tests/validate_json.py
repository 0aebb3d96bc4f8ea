#!/usr/bin/python3
"""Validates a JSON document (or, with --lines, one document per line)
against a JSON Schema; the vdevctl tests run it on --json output.
Exit status: 0 valid, 1 invalid (the reasons on stdout), 2 bad usage."""
import json
import sys

import jsonschema


def main(argv):
    lines = "--lines" in argv
    args = [a for a in argv[1:] if a != "--lines"]
    if len(args) != 2:
        print("usage: validate_json.py [--lines] SCHEMA FILE", file=sys.stderr)
        return 2
    with open(args[0]) as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)  # a broken schema must not pass everything
    validator = cls(schema)
    with open(args[1]) as f:
        text = f.read()
    try:
        docs = ([json.loads(l) for l in text.splitlines() if l.strip()]
                if lines else [json.loads(text)])
    except json.JSONDecodeError as e:
        print(f"not JSON: {e}")
        return 1
    if not docs:
        print("no document")
        return 1
    bad = 0
    for i, doc in enumerate(docs):
        for err in sorted(validator.iter_errors(doc), key=str):
            where = "/".join(str(p) for p in err.absolute_path)
            print(f"document {i + 1}: /{where}: {err.message}")
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
