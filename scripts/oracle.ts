/**
 * `npm run oracle -- [DIR] [--backend js|native] [--filter TEXT]`: runs PyTorch's reference cases
 * (default ../shared/oracle beside the repo) on every available backend. Prints one line per
 * failure and a final `N passed, M failed`; exits 1 on any failure.
 */
import { main } from './oracle/cli.js';

process.exitCode = await main(process.argv.slice(2));
