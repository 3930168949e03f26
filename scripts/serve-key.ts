// `npm run serve-key`: a new API key for the scoring API and the hash to put in SERVE_API_KEYS (docs/serving.md).
// The key goes to the client that calls the API; the server is configured with the hash only.
import { newApiKey } from '../core/serving/api-keys.js';

const { key, hash } = newApiKey();
console.log(`key (give to the client):          ${key}`);
console.log(`hash (append to SERVE_API_KEYS):   ${hash}`);
