/** The shared `main.ts` of both servers: `--port <n> --bug <name>`, one line `listening on <url>` on stdout. */
import { BUG_NAMES, parseBug } from './bugs';
import type { RunningServer, StartOptions } from './http';

export async function runMain(start: (opts: StartOptions) => Promise<RunningServer>, argv = process.argv.slice(2)) {
  const usage = `usage: --port <n> (0: any free port) --bug <${BUG_NAMES.join('|')}>`;
  let port = 0;
  let bugArg: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if ((flag === '--port' || flag === '--bug') && value === undefined) fail(`${flag} needs a value; ${usage}`);
    if (flag === '--port') {
      if (!/^\d+$/.test(value) || Number(value) > 65535) fail(`--port must be 0..65535, got "${value}"`);
      port = Number(value);
      i++;
    } else if (flag === '--bug') {
      bugArg = value;
      i++;
    } else fail(`unknown argument "${flag}"; ${usage}`);
  }
  let bug: ReturnType<typeof parseBug>;
  try {
    bug = parseBug(bugArg);
  } catch (e) {
    fail((e as Error).message);
  }
  try {
    const server = await start({ port, bug });
    console.log(`listening on ${server.url}`);
    const stop = () => server.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  } catch (e) {
    fail(`cannot listen on port ${port}: ${(e as Error).message}`);
  }
}

function fail(message: string): never {
  console.error(`error: ${message}`);
  process.exit(2);
}
