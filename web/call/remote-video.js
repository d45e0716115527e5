// The other participant's picture and voice, both through one <video> (not muted).
// When the browser refuses to start sound without a click on the page, the video
// starts muted and a button offers to turn the sound on.

/**
 * Plays `stream` in `video`; `soundButton` (hidden until needed) turns the sound on.
 * `onShown(hasVideo)` tells whether a live picture is there.
 */
export function attachRemote(video, stream, soundButton, onShown = () => {}) {
  if (video.srcObject !== stream) video.srcObject = stream;
  const live = stream.getVideoTracks().some((track) => track.readyState === 'live' && !track.muted);
  onShown(live);
  if (!soundButton.dataset.wired) {
    soundButton.dataset.wired = '1';
    soundButton.addEventListener('click', () => {
      video.muted = false;
      video.play().then(() => { soundButton.hidden = true; }).catch(() => {});
    });
  }
  if (!video.paused) return;
  video.play().catch((error) => {
    if (error?.name !== 'NotAllowedError') return;
    video.muted = true;
    soundButton.hidden = false;
    video.play().catch(() => {});
  });
}

/** Empties `video` (the call ended or is being set up again). */
export function detachRemote(video, soundButton) {
  video.srcObject = null;
  soundButton.hidden = true;
}
