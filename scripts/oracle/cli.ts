/** The command-line front of the oracle runner (scripts/oracle.ts is the npm entry). */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendName } from '../../src/backend/index.js';
import { formatFailure, runOracle } from './run.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export async function main(argv: string[]): Promise<number> {
  let dir = resolve(repoRoot, '../shared/oracle');
  let filter: string | undefined;
  const backends: BackendName[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--filter') filter = argv[++i];
    else if (a === '--backend') backends.push(argv[++i] as BackendName);
    else if (a === '--help' || a === '-h') {
      console.log('usage: npm run oracle -- [DIR] [--backend js|native]... [--filter TEXT]');
      return 0;
    } else dir = resolve(a);
  }
  let results;
  try {
    results = await runOracle(dir, { filter, backends: backends.length > 0 ? backends : undefined });
  } catch (err) {
    console.error(`oracle: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  let passed = 0;
  let failed = 0;
  for (const r of results) {
    if (r.passed) passed++;
    else {
      failed++;
      for (const line of formatFailure(r)) console.log(line);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}
