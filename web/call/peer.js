// A call's RTCPeerConnection with the media server. No STUN or TURN server (the media
// server is reachable directly), the kept stream's tracks sent and the other side's
// received, and non-trickle ICE: an offer or an answer leaves only once gathering has
// finished, so it carries every candidate. The media server answers the first offer;
// after that it is the one that offers (when the other participant's tracks arrive).

/** Longest wait for ICE gathering; what was gathered by then is sent. */
const GATHERING_LIMIT_MS = 5000;

/** Resolves once `pc` has gathered all its candidates (or after `limit` ms). */
export function gatheringComplete(pc, limit = GATHERING_LIMIT_MS) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', onState);
      pc.removeEventListener('icecandidate', onCandidate);
      resolve();
    };
    const onState = () => {
      if (pc.iceGatheringState === 'complete') finish();
    };
    const onCandidate = (event) => {
      if (!event.candidate) finish();
    };
    const timer = setTimeout(finish, limit);
    pc.addEventListener('icegatheringstatechange', onState);
    pc.addEventListener('icecandidate', onCandidate);
  });
}

/**
 * A connection sending `stream`'s tracks (audio and video; `direction` is `sendrecv`
 * unless told, `sendonly` for the written test's monitoring), or only receiving when
 * there is no stream. `onRemote(remoteStream)` is called whenever the remote
 * tracks change (one audio and one video at most: the latest of each kind), and
 * `onState(connectionState)` on each change of the connection's state.
 *
 * Returns `{ pc, remote, offer(), acceptAnswer(sdp), answer(offerSdp), close() }`; the
 * operations run one after the other, in the order they were asked for.
 */
export function createPeer({ stream = null, direction = 'sendrecv', iceServers = [], videoEncoding = null, onRemote = () => {}, onState = () => {} } = {}) {
  // `iceServers`: the TURN servers (with time-limited credentials) that came with the media
  // grant, for networks where the media server's port cannot be reached directly.
  const pc = new RTCPeerConnection({ iceServers });
  if (stream) {
    for (const track of stream.getTracks()) {
      // `videoEncoding`: limits of the sent video (the monitoring's resolution, frame
      // rate and bitrate), as RTCRtpEncodingParameters.
      const sendEncodings = track.kind === 'video' && videoEncoding ? [videoEncoding] : undefined;
      pc.addTransceiver(track, { direction, streams: [stream], sendEncodings });
    }
  } else {
    pc.addTransceiver('audio', { direction: 'recvonly' });
    pc.addTransceiver('video', { direction: 'recvonly' });
  }

  // The other side's tracks, gathered into one stream for one <video>.
  const remote = new MediaStream();
  const changed = () => onRemote(remote);
  pc.addEventListener('track', ({ track }) => {
    for (const old of remote.getTracks()) if (old.kind === track.kind && old !== track) remote.removeTrack(old);
    if (!remote.getTracks().includes(track)) remote.addTrack(track);
    track.addEventListener('ended', () => {
      remote.removeTrack(track);
      changed();
    });
    track.addEventListener('mute', changed);
    track.addEventListener('unmute', changed);
    changed();
  });
  pc.addEventListener('connectionstatechange', () => onState(pc.connectionState));

  let chain = Promise.resolve();
  const serial = (job) => {
    const run = chain.then(job);
    chain = run.catch(() => {});
    return run;
  };
  let closed = false;

  return {
    pc,
    remote,
    /** Creates the offer; resolves to its complete SDP. */
    offer: () => serial(async () => {
      await pc.setLocalDescription(await pc.createOffer());
      await gatheringComplete(pc);
      return pc.localDescription.sdp;
    }),
    /** Applies the answer to our offer; false when no offer of ours is waiting. */
    acceptAnswer: (sdp) => serial(async () => {
      if (closed || pc.signalingState !== 'have-local-offer') return false;
      await pc.setRemoteDescription({ type: 'answer', sdp });
      return true;
    }),
    /** Applies an offer of the media server; resolves to our complete answer. */
    answer: (sdp) => serial(async () => {
      await pc.setRemoteDescription({ type: 'offer', sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      await gatheringComplete(pc);
      return pc.localDescription.sdp;
    }),
    /** Ends the connection; the kept stream's tracks keep running. */
    close() {
      closed = true;
      pc.close();
      for (const track of remote.getTracks()) remote.removeTrack(track);
    },
  };
}
