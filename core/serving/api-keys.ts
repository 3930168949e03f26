// API keys of the scoring API. Configured hashed (SERVE_API_KEYS=sha256:<hex>[,sha256:<hex>…]): the configuration,
// the environment and the process listing never hold a usable key. A request presents its key as
// `Authorization: Bearer <key>` or `X-API-Key: <key>`; its sha256 is compared in constant time with each configured one.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

const HASH_PREFIX = 'sha256:';

export function hashApiKey(key: string): string {
  return `${HASH_PREFIX}${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

/** A new random key (what a client presents) and its hash (what SERVE_API_KEYS holds). */
export function newApiKey(): { key: string; hash: string } {
  const key = randomBytes(32).toString('base64url');
  return { key, hash: hashApiKey(key) };
}

/** The configured hashes as digests; throws naming the entry that is not `sha256:` and 64 hex digits. */
export function parseApiKeyHashes(value: string | undefined): Buffer[] {
  if (!value) return [];
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry, index) => {
      const match = /^sha256:([0-9a-f]{64})$/i.exec(entry);
      if (!match) throw new Error(`SERVE_API_KEYS entry ${index + 1}: expected sha256:<64 hex digits> (a hashed key; npm run serve-key makes one), not a key itself`);
      return Buffer.from(match[1], 'hex');
    });
}

/** Whether a presented key hashes to one of `hashes` (every hash compared, in constant time). */
export function keyMatches(presented: string, hashes: readonly Buffer[]): boolean {
  const digest = createHash('sha256').update(presented, 'utf8').digest();
  let matched = false;
  for (const hash of hashes) matched = timingSafeEqual(digest, hash) || matched;
  return matched;
}

/** The key a request presents, from `Authorization: Bearer …` or `X-API-Key`. */
export function presentedKey(headers: Record<string, string | string[] | undefined>): string | null {
  const authorization = headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match) return match[1];
  }
  const header = headers['x-api-key'];
  return typeof header === 'string' && header.length > 0 ? header : null;
}

/** Loopback only: 127.0.0.0/8, ::1 and localhost. Anything else (0.0.0.0, a LAN address, a name) is reachable. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}
