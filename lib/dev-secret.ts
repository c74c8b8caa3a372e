import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * With no AUTH_JWT_SECRET the embedded default still authenticates: a random secret is made once in DATA_DIR
 * (mode 0600), and `npm run token` signs with the same file. A real deployment sets AUTH_JWT_SECRET or IAM_BASE_URL.
 */
export function resolveJwtSecret(configured: string | undefined, dataDir: string): { secret: string; source: 'config' | 'data_dir' } {
  if (configured) return { secret: configured, source: 'config' };
  const file = path.join(dataDir, 'dev-jwt-secret');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(file, crypto.randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
  }
  return { secret: fs.readFileSync(file, 'utf8').trim(), source: 'data_dir' };
}
