// The centre administration page: the candidates of the centre with the state of each
// part, the CSV import, a single registration with its sign-in link, and booking the
// oral for a candidate, and the centre's settings.
import { translate } from '../i18n.js';
import { setupBooking } from './book.js';
import { setupCreate } from './create.js';
import { setupImport } from './import.js';
import { setupSettings } from './settings.js';
import { loadCandidates } from './table.js';

translate();
const box = document.getElementById('candidates');
const booking = setupBooking(document.getElementById('book-panel'), () => refresh());
const refresh = () => loadCandidates(box, { onBook: booking.open });
setupImport(document.getElementById('import-form'), refresh);
setupCreate(document.getElementById('create-form'), refresh);
setupSettings(document.getElementById('settings-form'));
await refresh();
