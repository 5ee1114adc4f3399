/**
 * Harness errors (HRN_ERR_*), declared once, in protocol/ so every layer raises the same class.
 * Every one carries an exit code: 2 for anything the user must fix in their command, config or
 * scenario; 1 is reserved for failed checks and thresholds.
 */
export const HARNESS_ERRORS = {
  HRN_ERR_USAGE: { exit: 2, hint: 'Run `harness --help` or `harness <command> --help`.' },
  HRN_ERR_CONFIG: { exit: 2, hint: 'Fix harness.config.ts (see "Config reference" in the README).' },
  HRN_ERR_SCENARIO: { exit: 2, hint: 'Fix the scenario file (see "Write your first scenario" in the README).' },
  HRN_ERR_NO_SCENARIOS: { exit: 2, hint: 'Run `harness list` to see the scenarios and their tags.' },
  HRN_ERR_SERVICE: { exit: 2, hint: 'Run `harness doctor` to see what this machine can run.' },
  HRN_ERR_TARGET: {
    exit: 2,
    hint: 'Check that --target points at a server speaking the sync contract (GET /healthz).',
  },
  // The adapter gateway in front of a --target (harness/target/gateway.ts); answered to devices, recorded as checks
  HRN_ERR_ADAPTER: {
    exit: 2,
    hint: 'The target answered in a way its adapter does not describe: set the adapter field the message names.',
  },
  HRN_ERR_ADAPTER_UNSUPPORTED: {
    exit: 2,
    hint: 'This endpoint is not translated for a non-contract adapter; set the capability to false or use the contract adapter.',
  },
  HRN_ERR_HARNESS_DEVIATION: {
    exit: 1,
    hint: "The harness's own request broke the sync contract: a harness bug, not the target's. Report it with history.jsonl.",
  },
  HRN_ERR_NOT_FOUND: {
    exit: 2,
    hint: 'The gateway serves only the contract endpoints (sync, auth, health, events, files).',
  },
  HRN_ERR_RUN_DIR: { exit: 2, hint: 'Pass a folder written by `harness run` (it holds results.json).' },
  HRN_ERR_DEVICE: { exit: 2, hint: 'Run `harness doctor`: the device kind may need software this machine lacks.' },
  HRN_ERR_BRIDGE: {
    exit: 2,
    hint: 'The app must include the test bridge and read its launch arguments (devices/detox/README.md).',
  },
  HRN_ERR_BRIDGE_CAPABILITY: {
    exit: 2,
    hint: "The app behind the bridge lacks that optional command group: build it with the commands devices/bridge/README.md lists for the capability, or use the simulated app (use.devices.detox.app: 'simulated').",
  },
  HRN_ERR_FAULT_UNSUPPORTED: {
    exit: 2,
    hint: 'This device cannot do that fault on its platform; use a proxy fault (offline, latency) instead.',
  },
  HRN_ERR_REPORTER: {
    exit: 2,
    hint: 'A reporter failed; the other reports were still written. Re-run with `harness report <run-dir>`.',
  },
  HRN_ERR_HISTORY: { exit: 2, hint: 'Pass a history.jsonl written by `harness run` (one JSON operation per line).' },
  HRN_ERR_LOAD_WORKERS: {
    exit: 2,
    hint: 'With workers > 1, VUs get tokens from the server token endpoint; drop getToken.',
  },
  HRN_ERR_LOAD_SETUP: {
    exit: 1,
    hint: 'The load could not seed its users; see the message (is the server answering?).',
  },
  HRN_ERR_RUN: { exit: 1, hint: 'The scenario stopped before its checks; see the message and devices.log.' },
  // PostgreSQL provider (server/services/postgres.ts)
  HRN_ERR_POSTGRES_URL: { exit: 2, hint: 'Check --database-url / services.postgres.url: a reachable postgres:// URL.' },
  HRN_ERR_POSTGRES_CONTAINER: { exit: 2, hint: "Start Docker/Podman, or use services.postgres 'embedded' or 'url'." },
  HRN_ERR_POSTGRES_EMBEDDED: { exit: 2, hint: 'Run `harness doctor`; `make setup` installs the embedded binaries.' },
  HRN_ERR_POSTGRES_MODE: { exit: 2, hint: 'Use services.postgres auto, embedded, container or url.' },
  // Device drivers (raised inside a run; the scenario reports them as its error)
  HRN_ERR_PHONE_BUSY: { exit: 1, hint: 'Wait for the running sync of this phone before starting another.' },
  HRN_ERR_PHONE_EXISTS: { exit: 1, hint: 'Create a record once; update it afterwards.' },
  HRN_ERR_PHONE_NOT_FOUND: { exit: 1, hint: 'Create the record on this phone (or sync it down) before updating it.' },
  HRN_ERR_PHONE_NOT_RUNNING: { exit: 1, hint: 'restart() the phone after a kill before using it.' },
  HRN_ERR_PHONE_NOT_STARTED: { exit: 1, hint: 'start() the phone before using it.' },
  HRN_ERR_PHONE_START: { exit: 1, hint: "Check the phone's data folder and adapter (use.phoneAdapter)." },
  HRN_ERR_PHONE_STARTED: { exit: 1, hint: 'A phone starts once; stop() or kill() it first.' },
  HRN_ERR_PHONE_SYNC: { exit: 1, hint: "The phone's sync failed; see devices.log for the request that failed." },
  HRN_ERR_PHONE_UNKNOWN_COLUMN: {
    exit: 1,
    hint: "Write only the columns of the phone's schema version (protocol/tables.ts).",
  },
  HRN_ERR_PHONE_WRONG_TYPE: { exit: 1, hint: 'Give each column a value of its type (protocol/tables.ts).' },
  HRN_ERR_VU_EXISTS: { exit: 1, hint: 'Create a record once; update it afterwards.' },
  HRN_ERR_VU_NOT_FOUND: { exit: 1, hint: 'Create the record (or pull it) before updating it.' },
  HRN_ERR_VU_TOKEN: { exit: 1, hint: 'The server must serve POST /auth/test-token (the reference server does).' },
  HRN_ERR_VU_UNKNOWN_COLUMN: { exit: 1, hint: "Write only the columns of the device's schema version." },
  HRN_ERR_WEB_APP_SERVER: { exit: 1, hint: "The web app's local server failed; see devices.log." },
  HRN_ERR_WEB_UPLOADS: {
    exit: 1,
    hint: 'Only the leader tab runs the upload queue: call attachFile/uploadStatus on the device, not on a follower tab.',
  },
  HRN_ERR_WATCH_BOOT: { exit: 1, hint: 'The watch worker did not start; see devices.log.' },
  HRN_ERR_WATCH_FIT: {
    exit: 1,
    hint: 'Point HARNESS_FIT_FIXTURES at the FIT fixtures; only valid FIT activities transfer.',
  },
  HRN_ERR_WATCH_GATT: {
    exit: 1,
    hint: 'The watch does not expose the full watch sync service (devices/watch/README.md).',
  },
  HRN_ERR_WATCH_LINK: { exit: 1, hint: 'The BLE link dropped; transfers resume on reconnect.' },
  HRN_ERR_WATCH_PACK: { exit: 1, hint: 'An activity pack arrived corrupt; the watch keeps it queued and resends.' },
  HRN_ERR_WATCH_RADIO: { exit: 1, hint: 'The phone-side BLE adapter is off or not allowed; run `harness doctor`.' },
  HRN_ERR_WATCH_STOPPED: { exit: 1, hint: 'start() the watch (it was stopped or killed).' },
  HRN_ERR_WATCH_TRANSFER: { exit: 1, hint: 'The receiver rejected a transfer; see devices.log.' },
  HRN_ERR_WATCH_UNREACHABLE: {
    exit: 1,
    hint: 'The watch stayed out of range or disconnected; heal bleOutOfRange first.',
  },
  HRN_ERR_BLE_ADDRESS: { exit: 1, hint: 'Stop the device using that address before starting another on it.' },
  HRN_ERR_BLE_CLOCK: { exit: 2, hint: "Use a time scale > 0 or 'instant' for the virtual radio." },
  HRN_ERR_BLE_PROFILE: { exit: 2, hint: 'Use a link profile of devices/radio/profiles.ts (linkProfile).' },
  HRN_ERR_BLE_VIRTUAL: {
    exit: 1,
    hint: 'Install the virtual radio before noble/bleno load (devices/radio/README.md).',
  },
} as const;

export type HarnessErrorCode = keyof typeof HARNESS_ERRORS;

export class HarnessError extends Error {
  readonly exitCode: number;
  readonly hint: string;
  constructor(
    readonly code: HarnessErrorCode,
    message: string,
    hint?: string,
  ) {
    super(message);
    this.exitCode = HARNESS_ERRORS[code].exit;
    this.hint = hint ?? HARNESS_ERRORS[code].hint;
  }
}
