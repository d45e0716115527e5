"""An independent cross-check of `langcert bench sfu`: rooms of two aiortc peers (PyPI),
each publishing aiortc's own Opus and VP8 test sources, through a `langcert bench sfu-node`
process; prints that process's CPU per 1000 forwarded packets (from /proc/<pid>/stat).

    python3 tools/sfu-aiortc-load.py target/release/langcert ROOMS SECONDS

aiortc's test video is a still frame, so its packets are few and small: the figure weighs
the per-packet fixed costs (wake-ups, the kernel's loopback) more than `bench sfu` does.
"""
import asyncio, json, sys, time, os
import aioice.ice
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack, MediaStreamError

BIN, ROOMS, SECONDS = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def ticks(pid):
    f = open(f"/proc/{pid}/stat").read()
    rest = f[f.rfind(")") + 2:].split()
    return int(rest[11]) + int(rest[12])

async def main():
    node = await asyncio.create_subprocess_exec(BIN, "bench", "sfu-node", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    pending, pcs, nid = {}, {}, [0]
    async def reader():
        while True:
            line = await node.stdout.readline()
            if not line: return
            m = json.loads(line)
            if "id" in m:
                pending.pop(m["id"]).set_result(m)
            elif m.get("event") == "offer":
                pc = pcs[(m["room"], m["participant"])]
                if pc.signalingState == "closed":
                    continue
                await pc.setRemoteDescription(RTCSessionDescription(m["sdp"], "offer"))
                await pc.setLocalDescription(await pc.createAnswer())
                asyncio.ensure_future(call({"op": "answer", "room": m["room"], "participant": m["participant"], "sdp": pc.localDescription.sdp}))
    async def call(req):
        nid[0] += 1; req["id"] = nid[0]
        fut = asyncio.get_running_loop().create_future(); pending[nid[0]] = fut
        node.stdin.write((json.dumps(req) + "\n").encode()); await node.stdin.drain()
        r = await fut
        if r.get("error"): raise RuntimeError(r["error"])
        return r.get("ok")
    asyncio.ensure_future(reader())
    frames = [0]
    async def consume(track):
        try:
            while True:
                await track.recv(); frames[0] += 1
        except MediaStreamError:
            pass
    for r in range(ROOMS):
        for p in ("p0", "p1"):
            pc = RTCPeerConnection(); pcs[(f"room-{r}", p)] = pc
            pc.addTrack(AudioStreamTrack()); pc.addTrack(VideoStreamTrack())
            pc.on("track", lambda t: asyncio.ensure_future(consume(t)))
            await pc.setLocalDescription(await pc.createOffer())
            ans = await call({"op": "join", "room": f"room-{r}", "participant": p, "sdp": pc.localDescription.sdp})
            await pc.setRemoteDescription(RTCSessionDescription(ans, "answer"))
    await asyncio.sleep(5)
    f0 = (await call({"op": "stats"}))["forwarded_packets"]; t0 = ticks(node.pid); fr0 = frames[0]
    await asyncio.sleep(SECONDS)
    f1 = (await call({"op": "stats"}))["forwarded_packets"]; t1 = ticks(node.pid)
    cpu = (t1 - t0) / 100
    print(json.dumps({"rooms": ROOMS, "forwarded": f1 - f0, "server_cpu_s": cpu, "cpu_s_per_1000_packets": cpu / ((f1 - f0) / 1000) if f1 > f0 else None, "frames_decoded": frames[0] - fr0}))
    for pc in pcs.values(): await pc.close()
    node.stdin.close(); await node.wait()

asyncio.run(main())
