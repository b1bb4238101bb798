/**
 * The `stride` executable's entry (bin/stride.js imports the compiled copy of this file). Loading
 * the Node entry first registers the native backend.
 */
import './warnings.js';
import '../node.js';
import { runCli } from './program.js';

// Failures outside the command's own flow (a rejected background promise) get one line too.
const fatal = (err: unknown): void => {
  const debug = process.argv.includes('--debug');
  const e = err as Error;
  process.stderr.write(
    `stride: error: ${debug && e?.stack ? e.stack : (e?.message ?? String(err)).split('\n')[0]}\n`,
  );
  process.exit(1);
};
process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);

const code = await runCli(process.argv);
process.exitCode = code;
// Flush and leave even if a worker or timer is still holding the event loop open.
await new Promise<void>((done) => process.stdout.write('', () => done()));
setTimeout(() => process.exit(code), 50).unref();
