"""An independent WebRTC peer (aiortc) through langcert's signaling and SFU.

Both participants of an interview are aiortc peers, each publishing Opus audio and VP8
video and receiving the other's. The candidate knocks, the evaluator admits them, media
flows both ways; then the evaluator leaves (WebSocket and peer connection closed) and
rejoins with a fresh connection, `--rounds` times. Each round waits until each side has
decoded fresh audio and video frames of the other's current connection.

Prints one JSON object: per round the frames each side decoded, and the number of
m-sections of every offer the SFU sent the candidate (who stays): the test checks that
rejoining does not grow it.

    python3 rejoin.py --base http://127.0.0.1:8080 --room <interview id> \
        --candidate-token <session> --evaluator-token <session> --rounds 3
"""

import argparse
import asyncio
import json
import sys

import aioice.ice
import websockets
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError, VideoStreamTrack

# Loopback only: aiortc would otherwise gather a candidate on every interface.
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

WAIT = 30.0
# Frames of each kind each side must decode per round.
FRAMES = 10


def m_sections(sdp):
    return sum(1 for line in sdp.splitlines() if line.startswith("m="))


class Participant:
    """One side: its WebSocket, its peer connection and what it decoded."""

    def __init__(self, name, base, token, room):
        self.name = name
        self.url = base.replace("http://", "ws://") + "/ws?token=" + token
        self.room = room
        self.ws = None
        self.pc = None
        self.media_token = None
        self.frames = {"audio": 0, "video": 0}
        self.offers = []  # m-sections of each offer the SFU sent
        self.inbox = asyncio.Queue()
        self.tasks = []

    async def connect(self):
        self.ws = await websockets.connect(self.url, max_size=2**20)
        self.tasks.append(asyncio.ensure_future(self._read()))
        await self.send({"type": "join", "room": self.room})

    async def _read(self):
        try:
            async for text in self.ws:
                message = json.loads(text)
                if message.get("type") == "offer":
                    # A renegotiation from the SFU: answered at once, in order.
                    await self._answer(message["sdp"])
                else:
                    await self.inbox.put(message)
        except websockets.ConnectionClosed:
            pass

    async def send(self, message):
        await self.ws.send(json.dumps(message))

    async def expect(self, kind):
        while True:
            message = await asyncio.wait_for(self.inbox.get(), WAIT)
            if message.get("type") == "error":
                raise RuntimeError(f"{self.name}: error {message}")
            if message.get("type") == kind:
                return message

    async def publish(self):
        self.frames = {"audio": 0, "video": 0}
        self.pc = RTCPeerConnection()
        self.pc.addTrack(AudioStreamTrack())
        self.pc.addTrack(VideoStreamTrack())

        @self.pc.on("track")
        def on_track(track):
            self.tasks.append(asyncio.ensure_future(self._consume(track)))

        await self.pc.setLocalDescription(await self.pc.createOffer())
        await self.send(
            {
                "type": "offer",
                "sdp": self.pc.localDescription.sdp,
                "media_token": self.media_token,
            }
        )
        answer = await self.expect("answer")
        await self.pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))

    async def _answer(self, sdp):
        self.offers.append(m_sections(sdp))
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp, "offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        await self.send(
            {
                "type": "answer",
                "sdp": self.pc.localDescription.sdp,
                "media_token": self.media_token,
            }
        )

    async def _consume(self, track):
        try:
            while True:
                await track.recv()
                self.frames[track.kind] += 1
        except MediaStreamError:
            pass

    async def received(self, since):
        """Waits until at least FRAMES more of each kind than `since` were decoded."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT
        while any(self.frames[k] < since[k] + FRAMES for k in since):
            if loop.time() > deadline:
                raise RuntimeError(f"{self.name} decoded only {self.frames} (had {since})")
            await asyncio.sleep(0.05)
        return dict(self.frames)

    async def leave(self):
        await self.send({"type": "leave"})
        await self.pc.close()
        await self.ws.close()
        for task in self.tasks:
            task.cancel()
        self.tasks = []
        self.inbox = asyncio.Queue()


async def main(args):
    candidate = Participant("candidate", args.base, args.candidate_token, args.room)
    evaluator = Participant("evaluator", args.base, args.evaluator_token, args.room)

    await candidate.connect()
    await candidate.expect("waiting")
    await evaluator.connect()
    evaluator.media_token = (await evaluator.expect("joined"))["media_token"]
    await evaluator.expect("waiting_list")
    await evaluator.send({"type": "admit", "candidate": args.candidate_id})
    candidate.media_token = (await candidate.expect("admitted"))["media_token"]
    await evaluator.publish()
    await candidate.publish()

    rounds = []
    for n in range(args.rounds + 1):
        if n > 0:
            await evaluator.leave()
            await evaluator.connect()
            evaluator.media_token = (await evaluator.expect("joined"))["media_token"]
            await evaluator.publish()
        seen_by_candidate = dict(candidate.frames)
        evaluator_got = await evaluator.received({"audio": 0, "video": 0})
        candidate_got = await candidate.received(seen_by_candidate)
        rounds.append(
            {
                "evaluator_decoded": evaluator_got,
                "candidate_decoded": {
                    k: candidate_got[k] - seen_by_candidate[k] for k in candidate_got
                },
                "candidate_offers_so_far": list(candidate.offers),
            }
        )

    await evaluator.leave()
    await candidate.leave()
    print(json.dumps({"rounds": rounds, "candidate_offer_m_sections": candidate.offers}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--room", required=True)
    parser.add_argument("--candidate-id", required=True)
    parser.add_argument("--candidate-token", required=True)
    parser.add_argument("--evaluator-token", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    try:
        asyncio.run(main(parser.parse_args()))
    except Exception as err:  # the test prints this; the exit status says it failed
        print(f"rejoin.py: {err!r}", file=sys.stderr)
        sys.exit(1)
