/**
 * The `stride` command: subcommands, exit codes and error reporting. Exit 0 on success, 1 on a
 * runtime failure, 2 on bad usage, 130 after Ctrl-C saved a checkpoint; every error is one line on
 * stderr (`stride: ...`), with the stack trace only under --debug.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';

import { trainCommand } from './train.js';
import { evalCommand } from './eval.js';
import { predictCommand } from './predict.js';
import { summaryCommand } from './summary.js';
import { inspectCommand } from './inspect.js';
import { EXIT, Interrupted, UsageError } from './errors.js';

function version(): string {
  try {
    return (
      JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    ).version;
  } catch {
    return 'unknown';
  }
}

/** Where the command's own messages go (tests capture them; the command uses stdout/stderr). */
export interface CliOutput {
  out(text: string): void;
  err(text: string): void;
}

const STD: CliOutput = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
};

/** Commander reports its own usage errors; this makes them one `stride: ...` line and exit 2. */
function configure(cmd: Command, io: CliOutput): Command {
  cmd
    .exitOverride()
    .configureOutput({
      writeOut: io.out,
      writeErr: io.err,
      // One line: commander puts its '(Did you mean ...?)' suggestion on a second one.
      outputError: (str, write) =>
        write(
          `stride: ${str
            .replace(/^error: /, '')
            .trimEnd()
            .replace(/\s*\n\s*/g, ' ')}\n`,
        ),
    })
    .showSuggestionAfterError(true);
  for (const sub of cmd.commands) configure(sub, io);
  return cmd;
}

export function buildProgram(io: CliOutput = STD): Command {
  const program = new Command('stride')
    .description('train, evaluate and look inside convolutional networks (stride: CNNs in TypeScript)')
    .version(version(), '-v, --version')
    .option('--debug', 'print stack traces with errors')
    .addCommand(trainCommand())
    .addCommand(evalCommand())
    .addCommand(predictCommand())
    .addCommand(summaryCommand())
    .addCommand(inspectCommand())
    .addHelpText(
      'after',
      '\nExamples:\n  stride train                          # SimpleCNN on MNIST, 1 epoch\n' +
        '  stride train --model lenet5 --epochs 3 --dataset fashion-mnist\n' +
        '  stride predict runs/simple-cnn-mnist-0 digit.png\n' +
        '  stride summary --model simple-cnn',
    );
  return configure(program, io);
}

/** Runs the command line (`argv` as process.argv) and resolves to the exit code; never throws. */
export async function runCli(argv: readonly string[], io: CliOutput = STD): Promise<number> {
  const debug = argv.includes('--debug');
  const args = argv.filter((a, i) => i < 2 || a !== '--debug');
  const program = buildProgram(io);
  try {
    if (args.length <= 2) {
      program.outputHelp({ error: true });
      return EXIT.usage;
    }
    await program.parseAsync(args as string[]);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Already printed by commander (help, version, or one usage line).
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) {
        return EXIT.ok;
      }
      return EXIT.usage;
    }
    const e = err as Error;
    const message = e instanceof Error ? e.message : String(err);
    const firstLine = debug
      ? message
      : message.split('\n')[0] + (message.includes('\n') ? ' (more with --debug)' : '');
    io.err(`stride: ${e instanceof Interrupted ? '' : 'error: '}${firstLine}\n`);
    if (debug && e instanceof Error && e.stack) io.err(`${e.stack}\n`);
    if (e instanceof Interrupted) return EXIT.interrupted;
    return e instanceof UsageError ? EXIT.usage : EXIT.failure;
  }
}
