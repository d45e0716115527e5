// What to tell the candidate when the browser refuses a microphone or a camera.
import { t } from '../i18n.js';

/** The message for a getUserMedia failure; `device` is `mic` or `cam`. */
export function mediaErrorMessage(error, device) {
  const name = error?.name ?? '';
  if (name === 'NotAllowedError' || name === 'PermissionDeniedError') return t(`check.${device}.denied`);
  if (name === 'NotFoundError' || name === 'DevicesNotFoundError' || name === 'OverconstrainedError') return t(`check.${device}.missing`);
  if (name === 'NotReadableError' || name === 'TrackStartError' || name === 'AbortError') return t(`check.${device}.busy`);
  if (name === 'Unsupported' || name === 'SecurityError') return t('check.media.unsupported');
  return `${t(`check.${device}.failed`)} ${error?.message ?? ''}`.trim();
}

/** getUserMedia, or a clear failure where the page is not allowed to ask at all. */
export function getMedia(constraints) {
  if (!navigator.mediaDevices?.getUserMedia) {
    const e = new Error('getUserMedia is not available');
    e.name = 'Unsupported';
    return Promise.reject(e);
  }
  return navigator.mediaDevices.getUserMedia(constraints);
}
