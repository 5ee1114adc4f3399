/** HarnessError lives in protocol/ so devices and the server raise the same errors the CLI prints. */
export { HARNESS_ERRORS, HarnessError, type HarnessErrorCode } from '../../protocol/harness-error';
