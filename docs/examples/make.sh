#!/usr/bin/env bash
# Regenerate the example report in docs/examples from the sample data:
# teach + inspect the sample line (WO-1001) with explanations, two signed dispositions,
# the work-order PDF, one certificate, and PNGs of the report's first page and the certificate.
# Usage: docs/examples/make.sh   (after .ci/demo or .ci/test has made .venv; needs pdftoppm)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out="$root/docs/examples"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
py="$root/.venv/bin/python"
insp() { (cd "$root" && "$py" -m inspector --data-dir "$work" --device cpu --station line-3 "$@"); }
export INSPECTOR_PASSWORD=example-Passw0rd INSPECTOR_NEW_PASSWORD=example-Passw0rd
insp users add qa-admin --full-name "Rita Admin" --role admin >/dev/null
insp users add ann --full-name "Ann Smith" --role reviewer --user qa-admin >/dev/null
insp --sign-in ann teach --part BR-100 --good "$root/sample_data/parts/BR-100/good" >/dev/null
insp --sign-in ann inspect --order "$root/sample_data/workorders/WO-1001_bracket.txt" \
    "$root/sample_data/parts/BR-100/line" --explain sync >/dev/null
ids=$(insp review list --json | "$py" -c "import json,sys; print(' '.join(r['id'] for r in json.load(sys.stdin)))")
set -- $ids
insp review decide "$1" --decision reject --reason OVER-LIMIT --comment "confirmed under the stereo microscope" --user ann >/dev/null
insp review decide "$2" --decision rework --reason REWORKABLE --comment "polish and re-inspect" --user ann >/dev/null
insp --sign-in ann report --order WO-1001 --out "$out/WO-1001-report.pdf"
insp --sign-in ann report --certificate "$1" --out "$out/certificate.pdf"
pdftoppm -r 80 -png -f 1 -l 1 "$out/WO-1001-report.pdf" "$out/report-page"
pdftoppm -r 80 -png -f 1 -l 1 "$out/certificate.pdf" "$out/certificate-page"
ls -la "$out"
