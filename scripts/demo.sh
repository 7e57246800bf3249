#!/usr/bin/env bash
# make demo: the main job against the bundled ConnectWise sandbox.
#   1. start the sandbox (ConnectWise + MSP360 API) with the demo companies on a free port
#   2. provision the vendor's setup (playbooks/setup.yml), then run it again: nothing to change
#   3. bill the previous month (whatever today is) (playbooks/billing.yml): preview with --check --diff, for real, again;
#      the example inventory bills the demo's licenses and its Wasabi storage as products of their own
#      (playbooks/inventory/group_vars/all/products.yml), so each company has a line per product
# TODAY=YYYY-MM-DD (make demo TODAY=2028-03-03) runs the whole demo as on that day: the sandbox's date
# and the roles' connectwise_today, so the demo is shown not to depend on the day it runs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

port="$(python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
log="$(mktemp)"
today="${TODAY:-}"
if [ -n "$today" ]; then
  python -c 'import datetime, sys; datetime.date.fromisoformat(sys.argv[1])' "$today" 2>/dev/null \
    || { echo "TODAY=$today is not a date (YYYY-MM-DD)" >&2; exit 2; }
  set -- -e "connectwise_today=$today"
else
  set --
fi
python -m tests.sandbox --port "$port" ${today:+--today "$today"} >"$log" 2>&1 &
sandbox_pid=$!
trap 'kill "$sandbox_pid" 2>/dev/null || true; wait "$sandbox_pid" 2>/dev/null || true' EXIT
python - "$port" <<'PY' || { cat "$log"; exit 1; }
import sys, time, urllib.request
url = "http://127.0.0.1:%s/login/companyinfo/sandbox" % sys.argv[1]
for _attempt in range(100):
    try:
        urllib.request.urlopen(url, timeout=1)
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit("the sandbox did not start")
PY

export CW_SITE="http://127.0.0.1:$port" CW_COMPANY_ID=sandbox CW_PUBLIC_KEY=sandbox-public \
       CW_PRIVATE_KEY=sandbox-private CW_CLIENT_ID=demo-client-id
export MBS_API_URL="$CW_SITE/mbs" MBS_USERNAME=sandbox-mbs MBS_PASSWORD=sandbox-mbs-password
export ANSIBLE_NOCOLOR="${ANSIBLE_NOCOLOR:-}"
banner() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

banner "ConnectWise sandbox at $CW_SITE (company sandbox, keys sandbox-public / sandbox-private)"
banner "Setup, first run: the vendor's ConnectWise setup for the demo companies"
ansible-playbook playbooks/setup.yml "$@"
banner "Setup, second run: nothing to change"
ansible-playbook playbooks/setup.yml "$@"

if [ -f playbooks/billing.yml ]; then
  report_dir="$root/reports/demo"
  day="${today:-$(date -u +%F)}"
  month="$(python -c 'import datetime as d, sys; t = d.date.fromisoformat(sys.argv[1]); print((t.replace(day=1) - d.timedelta(days=1)).strftime("%Y-%m"))' "$day")"
  banner "Billing month: $month (the month before today, $day; the sandbox's usage months follow its date)"
  banner "Billing preview for $month: --check --diff, no write"
  ansible-playbook playbooks/billing.yml --check --diff -e billing_report_dir="$report_dir" "$@"
  banner "Billing $month for real"
  ansible-playbook playbooks/billing.yml -e billing_report_dir="$report_dir" "$@"
  banner "Billing again: exactly one addition per company and period, nothing changes"
  ansible-playbook playbooks/billing.yml -e billing_report_dir="$report_dir" "$@"
  report=""
  for page in "$report_dir"/billing-*.html; do
    case "$page" in *-preview.html) ;; *) report="$page" ;; esac
  done
  banner "Each company's lines by product (storage, storage on Wasabi, licenses), from ${report%.html}.csv"
  python - "${report%.html}.csv" <<'PY'
import csv, sys
with open(sys.argv[1], newline="") as handle:
    rows = list(csv.DictReader(handle))
print("%-22s %-14s %-16s %-10s %12s %-9s %10s" % ("company", "product", "kind", "status", "quantity", "unit", "price"))
for row in rows:
    if row["row"] == "company":
        print("%-22s %-14s %-16s %-10s %12s %-9s %10s" % (row["company"][:22], row["product"], row["kind"],
                                                          row["status"], row["quantity"], row["unit"], row["total_price"]))
    elif row["row"] == "licenses":
        print("licenses %-44s %12s" % (row["status"], row["quantity"]))
PY
  banner "Report: $report (open it in a browser; it needs no network)"
fi
