/**
 * The `stride` executable's entry (bin/stride.js imports the compiled copy of this file). Loading
 * the Node entry first registers the native backend.
 */
import './warnings.js';
import '../node.js';
import { runCli } from './program.js';

const code = await runCli(process.argv);
process.exitCode = code;
// Flush and leave even if a worker or timer is still holding the event loop open.
await new Promise<void>((done) => process.stdout.write('', () => done()));
setTimeout(() => process.exit(code), 50).unref();
