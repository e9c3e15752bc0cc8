#!/usr/bin/env bash
# The README's five-minute tour, runnable: `bash docs/examples/tour.sh` in an empty folder
# (tests/test_readme_tour.py runs it). Synthetic people only.
set -euo pipefail
examples=$(cd "$(dirname "$0")" && pwd)

consentkit init                                    # database + keys (./consentkit-keys, files 0600)
consentkit actor add --id maria --role caseworker  # staff and their roles
consentkit actor add --id sven --role supervisor
consentkit actor add --id dana --role dpo

# A client: personal fields are stored only encrypted, under the client's own key.
S=$(consentkit --actor maria subject add --jurisdiction se --name "Karin Berg" \
      --birth-date 1999-04-16 --national-id 990416-8656)

# Consent: checked against the Swedish pack; the client gets a signed receipt.
C=$(consentkit --actor maria consent grant --subject "$S" --recipient treatment-provider \
      --purpose treatment --category identity,substance-use --form written --notice-version 2026-01 \
      | cut -d' ' -f1)                             # prints "<consent id>  active"
mkdir -p receipt && consentkit --actor maria consent receipt "$C" --out receipt

# May this go to the treatment centre? Exit 0 permit, 3 partial or deny.
consentkit --actor maria check --subject "$S" --recipient treatment-provider:beroendemottagningen \
    --purpose treatment --category identity --category health --explain || echo "exit $? (partial)"

# A child at risk: the reporting duty overrides secrecy, minimally and audited.
consentkit --actor sven check --subject "$S" --recipient child-protection-unit --purpose child-protection \
    --category identity,family --override child-welfare-report \
    --justification "Concern for the client's child reported at the visit" --reference SOC-2026-114
consentkit --actor dana override list --pending      # the DPO's review queue

# Withdrawal is forward-only; it names who received data under the consent.
consentkit --actor maria consent withdraw "$C" --reason "client asked by phone"

# Free text and exports.
echo "Karin Berg, 990416-8656, ring 070-123 45 67" | consentkit redact --lang sv --known-name "Karin Berg"
consentkit --actor sven pseudonymise "$examples/extract.csv" --schema "$examples/research.yaml" \
    --out research.csv --suppress

# Reports, and the audit trail an outside auditor can check.
consentkit --actor dana report subject "$S" --lang sv -o karin.html
consentkit --actor dana report dpo --from 2026-01-01 --to 2026-12-31 -o dpo.html
consentkit --actor dana audit checkpoint --out kept-by-the-dpo.txt   # keep it outside the database
consentkit --actor dana audit verify --trusted kept-by-the-dpo.txt
