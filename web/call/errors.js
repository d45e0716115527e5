// The words for the signaling server's `error` replies (docs/signaling.md, "Errors").
import { t } from '../i18n.js';

/** The message for `{ type: 'error', code, message }`. */
export function signalingErrorText(msg) {
  const key = `call.error.${msg.code}`;
  const text = t(key);
  return text === key ? `${t('call.error.other')} ${msg.message ?? msg.code ?? ''}`.trim() : text;
}
