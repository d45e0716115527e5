#!/usr/bin/env bash
# Plays every .webm under a directory to its end in headless Chromium and prints, per file,
# what the browser saw: duration, where playback ended, video frames decoded and dropped,
# or the media error. Needs chromium and node (>= 20.10, for its WebSocket).
#
#   MEDIA_SERVER_KEEP_RECORDINGS=/tmp/rec cargo test --test sfu recording
#   scripts/play-in-chromium.sh /tmp/rec
set -euo pipefail
dir=$(realpath "${1:?usage: $0 <directory of .webm files>}")
port=${CDP_PORT:-9333}
work=$(mktemp -d)
trap 'kill "${chromium_pid:-0}" 2>/dev/null && wait "$chromium_pid" 2>/dev/null; rm -rf "$work"' EXIT

files=$(cd "$dir" && find . -name '*.webm' | sort | sed 's|^\./||' | jq -R . | jq -sc .)
cat > "$dir/.play-in-chromium.html" <<HTML
<!doctype html><meta charset="utf-8"><body><script>
const files = $files;
async function play(name) {
  const el = document.createElement(name.includes("-video-") ? "video" : "audio");
  el.muted = true;
  el.src = name;
  document.body.append(el);
  return new Promise((resolve) => {
    el.onerror = () => resolve({ name, error: el.error && el.error.code + " " + el.error.message });
    el.onloadedmetadata = () => el.play().catch((e) => resolve({ name, error: String(e) }));
    el.onended = () => {
      const q = el.getVideoPlaybackQuality ? el.getVideoPlaybackQuality() : null;
      resolve({ name, duration_s: el.duration, ended_at_s: el.currentTime,
                video_frames: q && q.totalVideoFrames, dropped_frames: q && q.droppedVideoFrames,
                size: el.videoWidth ? el.videoWidth + "x" + el.videoHeight : undefined });
    };
  });
}
window.result = (async () => { const out = []; for (const f of files) out.push(JSON.stringify(await play(f))); return out.join("\n"); })();
</script></body>
HTML

cat > "$work/cdp.mjs" <<'JS'
const [port, url] = process.argv.slice(2);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let page;
for (let i = 0; i < 100 && !page; i++) {
  try { page = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()).find((t) => t.type === "page"); } catch {}
  if (!page) await sleep(100);
}
if (!page) { console.error("chromium did not come up"); process.exit(1); }
const ws = new WebSocket(page.webSocketDebuggerUrl);
await new Promise((r) => (ws.onopen = r));
let id = 0;
const pending = new Map();
ws.onmessage = (m) => { const msg = JSON.parse(m.data); pending.get(msg.id)?.(msg); pending.delete(msg.id); };
const call = (method, params) => new Promise((r) => { pending.set(++id, r); ws.send(JSON.stringify({ id, method, params })); });
await call("Page.navigate", { url });
await sleep(1000);
const res = await call("Runtime.evaluate", { expression: "window.result", awaitPromise: true, returnByValue: true });
console.log(res.result?.result?.value ?? JSON.stringify(res));
process.exit(0);
JS

chromium --headless=new --no-sandbox --disable-gpu --user-data-dir="$work/profile" \
  --autoplay-policy=no-user-gesture-required --allow-file-access-from-files \
  --remote-debugging-port="$port" about:blank >/dev/null 2>&1 &
chromium_pid=$!
chromium --version 2>/dev/null | tail -1
node --experimental-websocket --no-warnings "$work/cdp.mjs" "$port" "file://$dir/.play-in-chromium.html"
rm -f "$dir/.play-in-chromium.html"
