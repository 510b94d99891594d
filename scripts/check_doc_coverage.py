#!/usr/bin/env python3
"""Fails unless every public symbol of ZooFormat, ZooNet and ZooKit has documentation.

Reads the documentation-coverage.json that `swift package generate-documentation
--experimental-documentation-coverage` writes into each .doccarchive (`make docs` does both)
and lists the symbols without an abstract, by module. Left out, because their documentation
comes from the standard library or from another module: the members Swift synthesizes or
inherits for Equatable, Hashable, Comparable, RawRepresentable, CaseIterable, Codable, Error,
RandomNumberGenerator and Callback's default implementations, and DocC's pages for extended
modules and types.

    python3 scripts/check_doc_coverage.py .build/plugins/Swift-DocC/outputs
"""
import json
import os
import re
import sys

MODULES = ["ZooFormat", "ZooNet", "ZooKit"]
# Members documented elsewhere (synthesized or inherited from another module's protocol).
INHERITED = re.compile(
    r"/(!=\(_:_:\)|hash\(into:\)|hashValue|localizedDescription|init\(rawValue:\)|rawValue|allCases"
    r"|init\(from:\)|encode\(to:\)|errorDescription|\.\.\.\(_:.*|\.\._\(_:.*|_=?\(_:_:\)(-\w+)?"
    r"|next\(\)-\w+|next\(upperBound:\)|trainingWillBegin\(_:\)|trainingDidEnd\(_:\))$")


def main(outputs):
    missing = 0
    for module in MODULES:
        path = os.path.join(outputs, f"{module}.doccarchive", "documentation-coverage.json")
        if not os.path.exists(path):
            print(f"{path}: not found (run `make docs`)", file=sys.stderr)
            return 2
        entries = json.load(open(path))
        undocumented = sorted(
            entry["referencePath"].split("/documentation/", 1)[1]
            for entry in entries
            if entry["kind"]["isSymbol"] and not entry["hasAbstract"]
            and not entry["kind"]["name"].startswith("Extended ")
            and not INHERITED.search(entry["referencePath"]))
        symbols = sum(1 for entry in entries if entry["kind"]["isSymbol"])
        print(f"{module}: {symbols - len(undocumented)} of {symbols} symbols documented")
        for name in undocumented:
            print(f"  undocumented: {name}")
        missing += len(undocumented)
    if missing:
        print(f"{missing} public symbols have no documentation comment", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ".build/plugins/Swift-DocC/outputs"))
