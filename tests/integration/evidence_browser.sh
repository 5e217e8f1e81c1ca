#!/usr/bin/env bash
# report.html in headless Chromium (Debian's chromium, driven over the
# DevTools protocol by tests/browser_check.py): no console error (a CSP
# violation, that is any attempt to reach the network, is one), a
# screenshot that is not blank, the SVG timeline's bars as wide as the
# journal's durations say, both operators and the handover shown, and the
# page printable. QRH_REPORT_PNG=FILE keeps the screenshot (the README's).
. "$(dirname "$0")/../lib.sh"
. "$QRH_SRC/tests/evidence_lib.sh"

chromium=${QRH_CHROMIUM:-$(command -v chromium || true)}
[ -n "$chromium" ] || { echo "chromium is not installed"; exit 77; }
for tool in sqlite3 python3; do
	command -v $tool >/dev/null || { echo "$tool is not installed"; exit 77; }
done
export LC_ALL=C.UTF-8
db=$T/j.db
rb=$T/rb.md
evidence_runbook "$rb"
evidence_first "$db" "$rb"
evidence_second "$db" "$rb"
"$QRH_BIN" export --journal "$db" -o "$T/b" 1 2>/dev/null || fail "export"
mkdir "$T/page"
python3 "$QRH_SRC/tests/browser_check.py" "$chromium" "$T/b/report.html" "$T/page" ||
	fail "chromium could not check the page: $(tail -5 "$T/page/chromium.log" 2>/dev/null)"
sqlite3 -json "$db" "select payload from events where run_id = 1 and type = 'step_end'" >"$T/ends.json"

python3 - "$T/page" "$T/ends.json" <<'PY' || fail "report.html in Chromium (see above)"
import json, struct, sys, zlib
page, ends_file = sys.argv[1:3]
errors = json.load(open(f"{page}/console.json"))
if errors:
    sys.exit(f"console errors: {errors}")

# bars: as wide as the journal's durations, at the drawing's scale
bars = json.load(open(f"{page}/bars.json"))
scale, min_bar = bars["scale"], bars["min_bar"]
ends = {}
rb_steps = ["check-the-service", "flaky-probe", "settle", "restart-the-fleet", "promote",
            "tell-the-channel"]
for row in json.load(open(ends_file)):
    p = json.loads(row["payload"])
    ends[(rb_steps.index(p["step_id"]) + 1, p["attempt"])] = p["duration_ms"]
drawn = {(b["step"], b["attempt"]): b for b in bars["bars"]}
if set(drawn) != set(ends):
    sys.exit(f"bars {sorted(drawn)} are not the journal's attempts {sorted(ends)}")
for key, ms in ends.items():
    b = drawn[key]
    want = max(ms * scale, min_bar)
    if b["duration_ms"] != ms or abs(b["width"] - want) > 0.6 + want * 0.01:
        sys.exit(f"step {key[0]} attempt {key[1]}: {ms} ms should be {want:.2f} wide, drawn {b['width']:.2f}")
if not drawn[(2, 2)]["x"] > drawn[(2, 1)]["x"] + drawn[(2, 1)]["width"]:
    sys.exit("the second attempt is not drawn after the first")

texts = json.load(open(f"{page}/texts.json"))
s = texts["sessions"] or ""
if "handover" not in s or "alice" not in s or "bob" not in s:
    sys.exit(f"the sessions table does not show the handover: {s!r}")
if "alice, bob" not in (texts["facts"] or ""):
    sys.exit("the facts do not name both operators")
if not texts["details"] or texts["closed_before_print"] != texts["details"] or texts["closed_after_print"]:
    sys.exit(f"outputs should be collapsed on screen and all open in print: {texts}")

# the screenshot: a real PNG with a page drawn on it
data = open(f"{page}/shot.png", "rb").read()
if data[:8] != b"\x89PNG\r\n\x1a\n":
    sys.exit("the screenshot is not a PNG")
pos, idat, w = 8, b"", 0
while pos < len(data):
    n, kind = struct.unpack("!I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack("!IIBB", body[:10])
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
if depth != 8 or ctype not in (2, 6):
    sys.exit(f"unexpected PNG format {depth}/{ctype}")
bpp = 3 if ctype == 2 else 4
raw, stride = zlib.decompress(idat), w * bpp
prev, colours, dark, total = bytearray(stride), set(), 0, 0
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    if y % 7 == 0:
        for x in range(0, w, 5):
            px = bytes(line[x * bpp:x * bpp + 3])
            colours.add(px)
            dark += sum(px) < 600
            total += 1
    prev = line
if len(colours) < 8 or dark < total * 0.01:
    sys.exit(f"the screenshot looks blank: {len(colours)} colours, {dark}/{total} dark samples")
pdf = open(f"{page}/print.pdf", "rb").read()
if not pdf.startswith(b"%PDF") or len(pdf) < 2000:
    sys.exit("printing the page did not give a PDF")
print(f"report.html: {len(drawn)} bars checked, screenshot {w}x{h} with {len(colours)} colours")
PY
[ -n "${QRH_REPORT_PNG:-}" ] && cp "$T/page/shot.png" "$QRH_REPORT_PNG"
exit 0
