import { runMain } from '../common/cli';
import { startContractServer } from './server';

await runMain(startContractServer);
