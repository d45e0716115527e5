// The camera preview: the camera's stream in a <video>.
import { getMedia } from './media-error.js';

/** Shows the camera in `video`; resolves to `stop()` once a picture arrived. */
export async function preview(video) {
  const stream = await getMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } } });
  video.srcObject = stream;
  video.hidden = false;
  await new Promise((resolve, reject) => {
    if (video.readyState >= 2 && video.videoWidth > 0) resolve();
    video.addEventListener('loadeddata', resolve, { once: true });
    video.addEventListener('error', () => reject(video.error), { once: true });
  });
  await video.play().catch(() => {});
  return () => {
    for (const track of stream.getTracks()) track.stop();
    video.srcObject = null;
    video.hidden = true;
  };
}
