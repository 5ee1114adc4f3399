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
  HRN_ERR_RUN_DIR: { exit: 2, hint: 'Pass a folder written by `harness run` (it holds results.json).' },
  HRN_ERR_DEVICE: { exit: 2, hint: 'Run `harness doctor`: the device kind may need software this machine lacks.' },
  HRN_ERR_BRIDGE: {
    exit: 2,
    hint: 'The app must include the test bridge and read its launch arguments (devices/detox/README.md).',
  },
  HRN_ERR_FAULT_UNSUPPORTED: {
    exit: 2,
    hint: 'This device cannot do that fault on its platform; use a proxy fault (offline, latency) instead.',
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
