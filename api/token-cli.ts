import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config';
import { resolveJwtSecret } from '../lib/dev-secret';
import { ROLES, signDevToken } from './auth';

/**
 * `npm run token -- --tenant T --sub A --roles r1,r2 [--ttl seconds]`: prints a development token signed with
 * AUTH_JWT_SECRET, or with the embedded default's secret in DATA_DIR (the one `npm start` verifies with).
 */
function main() {
  const { values } = parseArgs({
    options: {
      tenant: { type: 'string' },
      sub: { type: 'string' },
      roles: { type: 'string', default: '' },
      ttl: { type: 'string', default: '3600' },
    },
  });
  if (!values.tenant || !values.sub) {
    console.error(`usage: npm run token -- --tenant T --sub A [--roles ${ROLES.join(',')}] [--ttl seconds]`);
    process.exit(2);
  }
  const ttl = Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl <= 0) {
    console.error('--ttl must be a positive number of seconds');
    process.exit(2);
  }
  const config = loadConfig();
  const { secret } = resolveJwtSecret(config.AUTH_JWT_SECRET, config.dataDir);
  const roles = values.roles.split(',').map((r) => r.trim()).filter(Boolean);
  process.stdout.write(signDevToken(secret, { sub: values.sub, tenant_id: values.tenant, roles }, ttl) + '\n');
}

main();
